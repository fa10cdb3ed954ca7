using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Metering;

/// <summary>The answer of <see cref="ApiMeterDiagnostics.CheckAsync"/>.</summary>
/// <param name="Reachable">The endpoint answered over HTTP.</param>
/// <param name="TokenAccepted">True = accepted, false = refused, null = could not be told.</param>
public sealed record ApiMeterCheckResult(bool Ok, bool Reachable, bool? TokenAccepted, int? Status, string Message);

/// <summary>
/// <c>check --api-meter</c> without writing usage data. It POSTs to EXTERNAL_API_URL a request that
/// is valid except for an empty <c>records</c> array, which API_Meter's schema refuses (records
/// min 1), so nothing can be stored:
/// <list type="bullet">
/// <item>400/422 = reachable and the token passed authentication (the body fails validation, as intended);</item>
/// <item>401/403 = the token is refused; 404/405 = wrong URL (it must be the complete endpoint);</item>
/// <item>5xx, timeouts, connection errors = not reachable.</item>
/// </list>
/// Because a server could validate before it authenticates, a 400 is confirmed with a second probe
/// carrying a deliberately wrong token: only if that one is refused with 401/403 is the token known to
/// be accepted; otherwise the result says the token could not be verified.
/// </summary>
public static class ApiMeterDiagnostics
{
    public static async Task<ApiMeterCheckResult> CheckAsync(ExporterSettings settings, TimeProvider time, SecretRegistry secrets, CancellationToken cancellationToken, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(secrets);
        if (settings.ExternalApiUrl is null || string.IsNullOrEmpty(settings.ExternalApiToken) || settings.ApiMeterTenantId is null)
        {
            return new ApiMeterCheckResult(false, false, null, null, "EXTERNAL_API_URL, EXTERNAL_API_TOKEN and API_METER_TENANT_ID must be set.");
        }

        try
        {
            HttpOutputClient.EnsureTransportAllowed("EXTERNAL_API_URL", settings.ExternalApiUrl, settings.AllowInsecureHttp);
        }
        catch (ConfigurationException ex)
        {
            return new ApiMeterCheckResult(false, false, null, null, ex.Problems[0]);
        }

        secrets.Add(settings.ExternalApiToken);
        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.Timeout = settings.ExternalApiTimeout;
        var body = ProbeBody(settings.ApiMeterTenantId.Value, time.GetUtcNow());

        var (status, text, problem) = await PostAsync(http, settings.ExternalApiUrl, settings.ExternalApiToken, body, cancellationToken).ConfigureAwait(false);
        if (status is null)
        {
            return new ApiMeterCheckResult(false, false, null, null, secrets.Mask($"API_Meter at {settings.ExternalApiUrl} is not reachable: {problem}"));
        }

        var code = (HttpStatusCode)status.Value;
        switch (status.Value)
        {
            case 401 or 403:
                return new ApiMeterCheckResult(false, true, false, status, $"API_Meter is reachable but refused the token (HTTP {status}): {HttpOutputClient.Hint(code)}");
            case 404 or 405:
                return new ApiMeterCheckResult(false, true, null, status, $"HTTP {status}: {HttpOutputClient.Hint(code)}");
            case >= 500:
                return new ApiMeterCheckResult(false, true, null, status, secrets.Mask($"API_Meter answered HTTP {status}: {Truncate(text)}"));
            case 400 or 422:
                var (wrongStatus, _, _) = await PostAsync(http, settings.ExternalApiUrl, "dify-usage-exporter-invalid-probe-token", body, cancellationToken).ConfigureAwait(false);
                return wrongStatus is 401 or 403
                    ? new ApiMeterCheckResult(true, true, true, status, $"API_Meter is reachable and accepted the token (the probe with empty records was rejected with HTTP {status} as intended; nothing was written).")
                    : new ApiMeterCheckResult(true, true, null, status, $"API_Meter is reachable (HTTP {status} to the empty probe; nothing was written), but the token could not be verified: a wrong token also got HTTP {wrongStatus?.ToString(CultureInfo.InvariantCulture) ?? "no answer"}.");
            case >= 200 and < 300:
                return new ApiMeterCheckResult(true, true, true, status, $"API_Meter is reachable and accepted the token (HTTP {status} to a request with no records; nothing to write).");
            default:
                return new ApiMeterCheckResult(false, true, null, status, secrets.Mask($"Unexpected HTTP {status}: {Truncate(text)}"));
        }
    }

    internal static string ProbeBody(Guid tenantId, DateTimeOffset now)
    {
        var stamp = Iso.Instant(now);
        var day = Iso.Day(DateOnly.FromDateTime(now.UtcDateTime));
        return "{\"tenant_id\":\"" + tenantId.ToString("D") + "\",\"export_metadata\":{\"exporter_version\":\"" + ApiMeterPayload.ExporterVersion
            + "\",\"export_timestamp\":\"" + stamp + "\",\"aggregation_period\":\"daily\",\"source_system\":\"dify\",\"date_range\":{\"start\":\""
            + day + "T00:00:00.000Z\",\"end\":\"" + day + "T23:59:59.999Z\"}},\"records\":[]}";
    }

    private static async Task<(int? Status, string Body, string? Problem)> PostAsync(HttpClient http, Uri url, string token, string body, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("dify-usage-exporter", ApiMeterPayload.ExporterVersion));
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // A diagnostic reports the failure instead of throwing it.
            return (null, string.Empty, ex.Message);
        }
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
