using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Http;

namespace DifyUsageExporter.Dify;

/// <summary>
/// The Dify console API client: detects the server generation, logs in (legacy JSON tokens,
/// cookie era with CSRF, Base64 password from the 1.11 line, or a workspace admin key), keeps the
/// session alive (refresh before <c>exp</c> or on 401, serialised because refresh tokens rotate;
/// one re-login when refresh fails), retries transient failures by the shared rule (Http/), and
/// bounds concurrent requests. Thread-safe; one instance per process.
/// </summary>
public sealed partial class DifyConsoleClient : IDisposable
{
    private const int BodyExcerptLength = 300;

    private readonly ExporterSettings settings;
    private readonly SecretRegistry secrets;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly HttpClient http;
    private readonly string baseUrl;
    private readonly AdaptiveConcurrencyLimiter concurrency;
    private readonly ResilientHttp resilientHttp;
    private readonly ResilientHttp loginHttp;

    /// <param name="settings">DIFY_* settings (base URL, credentials, timeouts, retries, concurrency, TLS).</param>
    /// <param name="secrets">Every token and cookie received is registered here.</param>
    /// <param name="loggerFactory">Logging.</param>
    /// <param name="time">Clock for token expiry, backoff and timeouts.</param>
    /// <param name="handler">Tests pass a handler; null = a handler with the DIFY_CA_CERT_FILE / DIFY_TLS_INSECURE trust settings.</param>
    public DifyConsoleClient(ExporterSettings settings, SecretRegistry secrets, ILoggerFactory loggerFactory, TimeProvider time, HttpMessageHandler? handler = null)
    {
        this.settings = settings;
        this.secrets = secrets;
        this.time = time;
        logger = loggerFactory.CreateLogger<DifyConsoleClient>();
        if (settings.DifyBaseUrl is null)
        {
            throw new ConfigurationException(["DIFY_API_BASE_URL is not set. Set it to the Dify origin, e.g. https://dify.example.com."]);
        }

        baseUrl = settings.DifyBaseUrl.AbsoluteUri.TrimEnd('/');
        if (baseUrl.EndsWith("/console/api", StringComparison.OrdinalIgnoreCase))
        {
            baseUrl = baseUrl[..^"/console/api".Length];
        }

        secrets.Add(settings.DifyPassword);
        secrets.Add(settings.DifyApiToken);
        if (!string.IsNullOrEmpty(settings.DifyPassword))
        {
            secrets.Add(DifyTokens.EncodePassword(settings.DifyPassword));
        }

        // Outside in: credentials and the renewal on 401 (SessionHandler), then each attempt under
        // the shared retry rule and the adaptive concurrency limit (AttemptHandler), then the wire.
        var attempts = new AttemptHandler(this) { InnerHandler = handler ?? DifyTls.CreateHandler(settings, logger) };
        http = new HttpClient(new SessionHandler(this) { InnerHandler = attempts }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("dify-usage-exporter", "1.0"));
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        concurrency = new AdaptiveConcurrencyLimiter(settings.DifyFetchConcurrency, time, (old, now, reason) => DifyLog.LimitChanged(logger, old, now, reason));
        resilientHttp = new ResilientHttp(RetryPolicy(settings, login: false), time);
        loginHttp = new ResilientHttp(RetryPolicy(settings, login: true), time);
    }

    /// <summary>The Dify origin requests go to.</summary>
    public string BaseUrl => baseUrl;

    /// <summary>The adaptive bound on requests in flight (ceiling DIFY_FETCH_CONCURRENCY).</summary>
    internal AdaptiveConcurrencyLimiter Concurrency => concurrency;

    public void Dispose()
    {
        http.Dispose();
        authGate.Dispose();
    }

    private static HttpRetryPolicy RetryPolicy(ExporterSettings settings, bool login) => new()
    {
        // The login POST is never retried, not even on a timeout or 5xx: the first attempt may have
        // reached Dify and counted towards its 5-failure account lock (api/services/account_service.py).
        MaxRetries = login ? 0 : settings.DifyFetchRetryCount,
        BaseDelay = settings.DifyFetchRetryDelay,
        AttemptTimeout = settings.DifyFetchTimeout,
        TimeoutVariable = "DIFY_FETCH_TIMEOUT_MS",
    };

    /// <summary>
    /// Sends <paramref name="request"/> through the handlers (credentials when the request is marked
    /// <see cref="Authenticated"/>, retries unless it is the login) and turns transport failures that
    /// survive the retries into <see cref="DifyApiException"/>.
    /// </summary>
    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var method = request.Method;
        var path = request.Options.TryGetValue(PathKey, out var p) ? p : "?";
        var login = request.Options.TryGetValue(LoginKey, out var l) && l;
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpAttemptTimeoutException ex)
        {
            throw new DifyApiException($"Dify did not answer {method} {path} within {settings.DifyFetchTimeout.TotalMilliseconds:0} ms (DIFY_FETCH_TIMEOUT_MS), {(login ? "not retried (a login is never retried)" : $"after {settings.DifyFetchRetryCount} retries")}.", path, null, "timeout", null, ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw new DifyApiException($"Dify {method} {path} failed: {secrets.Mask(TransportMessage(ex))}", path, null, "transport", null, ex);
        }
    }

    private static string TransportMessage(Exception ex)
    {
        var messages = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (!messages.Contains(e.Message))
            {
                messages.Add(e.Message);
            }
        }

        return string.Join(" → ", messages);
    }

    /// <summary>A request to <paramref name="path"/> (below the origin); <paramref name="authenticated"/> = with the session's credentials.</summary>
    private HttpRequestMessage NewRequest(HttpMethod method, string path, HttpContent? content, bool authenticated = false, bool login = false)
    {
        var request = new HttpRequestMessage(method, baseUrl + path) { Content = content };
        request.Options.Set(PathKey, PathOnly(path));
        request.Options.Set(Authenticated, authenticated);
        request.Options.Set(LoginKey, login);
        return request;
    }

    private static HttpContent Json<T>(T body, JsonTypeInfo<T> typeInfo) =>
        new StringContent(JsonSerializer.Serialize(body, typeInfo), Encoding.UTF8, "application/json");

    internal static string PathOnly(string path)
    {
        var q = path.IndexOf('?', StringComparison.Ordinal);
        return q < 0 ? path : path[..q];
    }

    /// <summary>Turns a non-success response into an exception with Dify's error code and a masked body excerpt.</summary>
    private async Task<DifyApiException> ToApiExceptionAsync(HttpResponseMessage response, string path, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var (code, message) = ParseError(body);
        var excerpt = secrets.Mask(body.Length > BodyExcerptLength ? body[..BodyExcerptLength] + "…" : body);
        var status = (int)response.StatusCode;
        var text = $"Dify {response.RequestMessage?.Method} {PathOnly(path)} answered {status}" +
            (code is null ? string.Empty : $" {code}") +
            (message is null ? string.Empty : $": {secrets.Mask(message)}");
        if (status is >= 300 and < 400)
        {
            text += $" (redirect to {response.Headers.Location}; set DIFY_API_BASE_URL to the final origin)";
        }

        return new DifyApiException(text, PathOnly(path), status, code, excerpt);
    }

    private static (string? Code, string? Message) ParseError(string body)
    {
        if (string.IsNullOrWhiteSpace(body) || body.TrimStart()[0] != '{')
        {
            return (null, null);
        }

        try
        {
            var error = JsonSerializer.Deserialize(body, DifyJson.Default.DifyErrorBody);
            var message = error?.Message;
            if (message is null && error?.Data.ValueKind == JsonValueKind.String)
            {
                message = error.Data.GetString();
            }

            return (error?.Code, message);
        }
        catch (JsonException)
        {
            // Not Dify's envelope (a proxy's page): no code.
            return (null, null);
        }
    }

    private static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, string path, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var value = await JsonSerializer.DeserializeAsync(stream, typeInfo, cancellationToken).ConfigureAwait(false);
            return value ?? throw new DifyApiException($"Dify {PathOnly(path)} returned an empty body.", PathOnly(path), (int)response.StatusCode, "empty", null);
        }
        catch (JsonException ex)
        {
            throw new DifyApiException($"Dify {PathOnly(path)} returned a body the exporter cannot read ({ex.Message}). Is DIFY_API_BASE_URL the Dify origin?", PathOnly(path), (int)response.StatusCode, "bad_json", null, ex);
        }
    }
}
