using System.Net;

namespace DifyUsageExporter.Http;

/// <summary>
/// The one rule for what is worth another attempt, shared by the Dify client, API_Meter (and the
/// usage report) and the notification webhook: connection errors, attempt timeouts, 408, 429 and
/// every 5xx. Anything else (a 4xx, a 2xx with a body that does not confirm) is an answer, and
/// sending the same request again would get the same answer.
/// </summary>
public static class HttpTransient
{
    /// <summary>408 Request Timeout, 429 Too Many Requests and every 5xx.</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>A connection/DNS/TLS failure, a broken stream or an attempt that ran out of time.</summary>
    public static bool IsTransient(Exception exception) =>
        exception is HttpRequestException or TimeoutException or IOException;

    /// <summary>
    /// How long the server asked us to wait (<c>Retry-After</c> in seconds or as an HTTP-date,
    /// RFC 9110 §10.2.3), never negative and at most <paramref name="cap"/>; null without the header.
    /// </summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response, DateTimeOffset now, TimeSpan cap)
    {
        var header = response?.Headers.RetryAfter;
        TimeSpan? wait = header?.Delta ?? (header?.Date is { } date ? date - now : null);
        if (wait is not { } w)
        {
            return null;
        }

        return w < TimeSpan.Zero ? TimeSpan.Zero : w > cap ? cap : w;
    }
}
