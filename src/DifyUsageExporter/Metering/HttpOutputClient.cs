using System.Net;
using System.Net.Http.Headers;
using System.Text;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Http;

namespace DifyUsageExporter.Metering;

/// <summary>What one POST (after retries) means for the spool; see docs/delivery.md "Dead letters".</summary>
public enum SendOutcome
{
    /// <summary>2xx (or 409) and, for API_Meter, a body confirming every record.</summary>
    Delivered,

    /// <summary>Network error, timeout, 408, 429 or 5xx after the retries: try again next cycle, never a dead letter.</summary>
    Unreachable,

    /// <summary>401/403/404/405: the token or URL is wrong, not the records; waits (uncharged) until the configuration is fixed.</summary>
    Refused,

    /// <summary>400/422: API_Meter refuses the records themselves (permanent): split the batch to isolate them.</summary>
    Rejected,

    /// <summary>An answer that neither confirms nor explains (a 2xx without the expected body, an unexpected 4xx): counts toward MAX_SPOOL_RETRIES.</summary>
    Unexplained,
}

/// <summary>The outcome of one POST (after retries).</summary>
public sealed record SendResult(SendOutcome Outcome, int? StatusCode, int Attempts, string? Error, long? Inserted, long? Updated, long? Total)
{
    public bool Delivered => Outcome == SendOutcome.Delivered;

    /// <summary>True when the target could not take the request at all (unreachable or refusing the token/URL): later batches would fail the same way.</summary>
    public bool TargetDown => Outcome is SendOutcome.Unreachable or SendOutcome.Refused;
}

/// <summary>
/// POSTs JSON to one configured URL exactly (no path appended), with a Bearer token, retried by the
/// shared rule of <see cref="ResilientHttp"/>: network errors, timeouts (EXTERNAL_API_TIMEOUT_MS per
/// attempt), 408, 429 and 5xx, after Retry-After (seconds or HTTP-date, capped) or exponential
/// backoff with jitter driven by the injected <see cref="TimeProvider"/>.
/// 400/401/403/404/422 and other 4xx are not retried; 409 counts as success.
/// </summary>
public sealed class HttpOutputClient : IDisposable
{
    private readonly HttpClient http;
    private readonly Uri url;
    private readonly string? token;
    private readonly ILogger logger;
    private readonly SecretRegistry secrets;
    private readonly string targetName;
    private readonly ResilientHttp resilient;

    public HttpOutputClient(string targetName, Uri url, string? token, TimeSpan timeout, int maxRetry, bool allowInsecureHttp, TimeProvider time, ILogger logger, SecretRegistry secrets, HttpMessageHandler? handler = null, TimeSpan? baseDelay = null)
    {
        EnsureTransportAllowed(targetName, url, allowInsecureHttp);
        this.targetName = targetName;
        this.url = url;
        this.token = token;
        this.logger = logger;
        this.secrets = secrets;
        secrets.Add(token);
        http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.Timeout = Timeout.InfiniteTimeSpan;
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("dify-usage-exporter", ApiMeterPayload.ExporterVersion));

        resilient = new ResilientHttp(
            new HttpRetryPolicy
            {
                MaxRetries = maxRetry,
                BaseDelay = baseDelay ?? TimeSpan.FromSeconds(1),
                AttemptTimeout = timeout,
                TimeoutVariable = "EXTERNAL_API_TIMEOUT_MS",
            },
            time);
    }

    /// <summary>Upper bound of an honoured Retry-After (a server asking for an hour would stall the cycle).</summary>
    public static TimeSpan MaxRetryAfter => HttpRetryPolicy.DefaultMaxRetryAfter;

    /// <summary>HTTPS only, except loopback hosts or ALLOW_INSECURE_HTTP=true (also validated at configuration load).</summary>
    public static void EnsureTransportAllowed(string targetName, Uri url, bool allowInsecureHttp)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            throw new ConfigurationException([$"{targetName} URL must be an absolute http(s) URL."]);
        }

        if (url.Scheme == Uri.UriSchemeHttp && !url.IsLoopback && !allowInsecureHttp)
        {
            throw new ConfigurationException([$"{targetName} URL uses plain HTTP to a non-loopback host; use https://, or set ALLOW_INSECURE_HTTP=true to accept it."]);
        }
    }

    /// <summary>POSTs <paramref name="json"/>; never throws for HTTP or network failures (only for cancellation).</summary>
    /// <param name="expectedRecords">
    /// API_Meter: the number of records sent; a 2xx counts as delivered only when its body says
    /// <c>success: true</c> with <c>processed_records</c>, <c>total</c> or <c>inserted + updated</c>
    /// equal to it. Null (the generic usage report, whose answer has no known shape): any 2xx.
    /// </param>
    public async Task<SendResult> PostAsync(string json, CancellationToken cancellationToken, int? expectedRecords = null)
    {
        var attempts = 0;
        HttpResponseMessage? response = null;
        try
        {
            response = await resilient.SendAsync(
                async attemptToken =>
                {
                    attempts++;
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
                    if (!string.IsNullOrEmpty(token))
                    {
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                    }

                    return await ResilientHttp.SendBufferedAsync(http, request, attemptToken).ConfigureAwait(false);
                },
                notice => MeteringLog.Retrying(logger, targetName, notice.Attempt, secrets.Mask(notice.Problem), (long)notice.Delay.TotalMilliseconds),
                cancellationToken).ConfigureAwait(false);
        }

        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException)
        {
            // Retries are exhausted: report it as a transient failure; the batch stays in the spool.
            var problem = secrets.Mask(ex.Message);
            MeteringLog.Unreachable(logger, targetName, attempts, problem);
            return new SendResult(SendOutcome.Unreachable, null, attempts, $"{targetName} unreachable: {problem}", null, null, null);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Conflict)
            {
                var answer = ApiMeterAnswer.Parse(body);
                if (expectedRecords is { } sent && !answer.Confirms(sent))
                {
                    // A proxy's HTML page, {"success":false} or a count that does not match: the
                    // records may not be stored, so they stay pending (issue: a 2xx is not proof).
                    var excerpt = Truncate(OneLine(secrets.Mask(body)), 300);
                    var why = answer.Explain(sent);
                    MeteringLog.Unexplained(logger, targetName, status, why, excerpt);
                    return new SendResult(SendOutcome.Unexplained, status, attempts, $"HTTP {status} without confirmation ({why}): {excerpt}", answer.Inserted, answer.Updated, answer.Total);
                }

                return new SendResult(SendOutcome.Delivered, status, attempts, null, answer.Inserted, answer.Updated, answer.Total);
            }

            var masked = Truncate(secrets.Mask(body), 2000);
            var outcome = Classify(response.StatusCode);
            if (outcome == SendOutcome.Unreachable)
            {
                MeteringLog.Unreachable(logger, targetName, attempts, $"HTTP {status}: {masked}");
            }
            else
            {
                MeteringLog.Rejected(logger, targetName, status, masked, Hint(response.StatusCode));
            }

            return new SendResult(outcome, status, attempts, $"HTTP {status}: {Truncate(OneLine(masked), 500)}", null, null, null);
        }
    }

    public void Dispose() => http.Dispose();

    internal static string Hint(HttpStatusCode status) => (int)status switch
    {
        400 => "the server rejected the payload schema; the response names the field. Keep the batch (spool list) and report it.",
        401 => "the token was refused: check EXTERNAL_API_TOKEN.",
        403 => "the token is not allowed for this tenant: check EXTERNAL_API_TOKEN and API_METER_TENANT_ID.",
        404 => "nothing at this URL: EXTERNAL_API_URL must be the complete endpoint (no path is appended).",
        405 => "method not allowed: EXTERNAL_API_URL must be the complete POST endpoint (no path is appended).",
        422 => "the server could not process the records: check API_METER_TENANT_ID and the record values in the response.",
        _ => "see the response body.",
    };

    /// <summary>What a non-2xx status means for the spool (see <see cref="SendOutcome"/>).</summary>
    internal static SendOutcome Classify(HttpStatusCode status) => (int)status switch
    {
        _ when HttpTransient.IsTransient(status) => SendOutcome.Unreachable,
        400 or 422 => SendOutcome.Rejected,
        401 or 403 or 404 or 405 => SendOutcome.Refused,
        _ => SendOutcome.Unexplained,
    };


    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    private static string OneLine(string text) => string.Join(' ', text.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
