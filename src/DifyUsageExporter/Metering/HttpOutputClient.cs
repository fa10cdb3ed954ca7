using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DifyUsageExporter.Configuration;
using Polly;
using Polly.Retry;

namespace DifyUsageExporter.Metering;

/// <summary>The outcome of one POST (after retries).</summary>
/// <param name="Delivered">2xx or 409.</param>
/// <param name="Transient">False = the server rejected the request (4xx); true = it could not be reached or kept failing (timeouts, 5xx, 429).</param>
public sealed record SendResult(bool Delivered, bool Transient, int? StatusCode, int Attempts, string? Error, long? Inserted, long? Updated, long? Total);

/// <summary>
/// POSTs JSON to one configured URL exactly (no path appended), with a Bearer token, a per-attempt
/// timeout and Polly retries: 429 (Retry-After seconds or HTTP-date, capped), 5xx, network errors
/// and timeouts, exponential backoff with jitter driven by the injected <see cref="TimeProvider"/>.
/// 400/401/403/404/422 and other 4xx are not retried; 409 counts as success.
/// </summary>
public sealed class HttpOutputClient : IDisposable
{
    private readonly HttpClient http;
    private readonly Uri url;
    private readonly string? token;
    private readonly TimeSpan timeout;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly SecretRegistry secrets;
    private readonly string targetName;
    private readonly ResiliencePipeline<HttpResponseMessage> pipeline;

    public HttpOutputClient(string targetName, Uri url, string? token, TimeSpan timeout, int maxRetry, bool allowInsecureHttp, TimeProvider time, ILogger logger, SecretRegistry secrets, HttpMessageHandler? handler = null, TimeSpan? baseDelay = null)
    {
        EnsureTransportAllowed(targetName, url, allowInsecureHttp);
        this.targetName = targetName;
        this.url = url;
        this.token = token;
        this.timeout = timeout;
        this.time = time;
        this.logger = logger;
        this.secrets = secrets;
        secrets.Add(token);
        http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.Timeout = Timeout.InfiniteTimeSpan;
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("dify-usage-exporter", ApiMeterPayload.ExporterVersion));

        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (maxRetry > 0)
        {
            // MAX_RETRY=0 means a single attempt; Polly's retry strategy needs at least one retry.
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = maxRetry,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = baseDelay ?? TimeSpan.FromSeconds(1),
                MaxDelay = MaxBackoff,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
                OnRetry = args =>
                {
                    var problem = args.Outcome.Exception?.Message ?? $"HTTP {(int)args.Outcome.Result!.StatusCode}";
                    MeteringLog.Retrying(logger, targetName, args.AttemptNumber + 1, secrets.Mask(problem), (long)args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            });
        }

        pipeline = builder.Build();
    }

    /// <summary>Upper bound of an honoured Retry-After (a server asking for an hour would stall the cycle).</summary>
    public static TimeSpan MaxRetryAfter { get; } = TimeSpan.FromMinutes(2);

    private static TimeSpan MaxBackoff { get; } = TimeSpan.FromMinutes(1);

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
    public async Task<SendResult> PostAsync(string json, CancellationToken cancellationToken)
    {
        var attempts = 0;
        HttpResponseMessage? response = null;
        try
        {
            response = await pipeline.ExecuteAsync(
                async ct =>
                {
                    attempts++;
                    using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    // Real-time timeout: it bounds a real network wait, unlike backoff delays (TimeProvider).
                    attemptCts.CancelAfter(timeout);
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
                    if (!string.IsNullOrEmpty(token))
                    {
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                    }

                    try
                    {
                        var r = await http.SendAsync(request, attemptCts.Token).ConfigureAwait(false);
                        await r.Content.LoadIntoBufferAsync(attemptCts.Token).ConfigureAwait(false);
                        return r;
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        throw new TimeoutException($"no response within {timeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms (EXTERNAL_API_TIMEOUT_MS)");
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException)
        {
            // Retries are exhausted: report it as a transient failure; the batch stays in the spool.
            var problem = secrets.Mask(ex.Message);
            MeteringLog.Unreachable(logger, targetName, attempts, problem);
            return new SendResult(false, true, null, attempts, $"{targetName} unreachable: {problem}", null, null, null);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Conflict)
            {
                var (inserted, updated, total) = ParseCounts(body);
                return new SendResult(true, false, status, attempts, null, inserted, updated, total);
            }

            var masked = Truncate(secrets.Mask(body), 2000);
            var transient = IsTransientStatus(response.StatusCode);
            if (transient)
            {
                MeteringLog.Unreachable(logger, targetName, attempts, $"HTTP {status}: {masked}");
            }
            else
            {
                MeteringLog.Rejected(logger, targetName, status, masked, Hint(response.StatusCode));
            }

            return new SendResult(false, transient, status, attempts, $"HTTP {status}: {Truncate(masked, 500)}", null, null, null);
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

    private static bool IsTransientStatus(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status >= 500 || status == HttpStatusCode.RequestTimeout;

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        HttpRequestException or TimeoutException or IOException => true,
        null => IsTransientStatus(outcome.Result!.StatusCode),
        _ => false,
    };

    private TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var header = response?.Headers.RetryAfter;
        if (header is null)
        {
            return null;
        }

        TimeSpan? wait = header.Delta ?? (header.Date is { } date ? date - time.GetUtcNow() : null);
        if (wait is null)
        {
            return null;
        }

        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxRetryAfter ? MaxRetryAfter : wait;
    }

    private static (long?, long?, long?) ParseCounts(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, null, null);
            }

            return (Read(doc.RootElement, "inserted"), Read(doc.RootElement, "updated"), Read(doc.RootElement, "total"));
        }
        catch (JsonException)
        {
            // The body is informational only (anchor §5.4: unconfirmed shape): a 2xx is success anyway.
            return (null, null, null);
        }

        static long? Read(JsonElement root, string name) =>
            root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";
}
