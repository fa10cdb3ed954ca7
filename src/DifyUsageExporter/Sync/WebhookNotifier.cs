using System.Globalization;
using System.Text;
using System.Text.Json;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Http;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Storage;

namespace DifyUsageExporter.Sync;

/// <summary>What a notification is about; each kind is rate limited on its own.</summary>
public enum NotificationKind
{
    CycleFailed,
    DeadLetter,
    Recovered,

    /// <summary>A day's cost or tokens reached ALERT_DAILY_COST/ALERT_DAILY_TOKENS; deduplicated per day and threshold in the store, so not rate limited.</summary>
    CostAlert,
}

/// <summary>
/// Posts operator notifications to NOTIFY_WEBHOOK_URL as <c>{"text": ..., "content": ...}</c>, which
/// both Slack (text) and Discord (content) webhooks accept. At most one message per kind per
/// NOTIFY_MIN_INTERVAL_MINUTES (the last send time is kept in the store, so restarts and
/// one-shot commands share the limit). Every message passes through <see cref="SecretRegistry.Mask"/>.
/// A failing webhook is logged and never fails the cycle.
/// </summary>
public sealed class WebhookNotifier : IDisposable
{
    private readonly Uri? url;
    private readonly TimeSpan minInterval;
    private readonly StateStore store;
    private readonly TimeProvider time;
    private readonly SecretRegistry secrets;
    private readonly ILogger logger;
    private readonly HttpClient http;
    private readonly ResilientHttp resilient;

    public WebhookNotifier(Uri? url, TimeSpan minInterval, StateStore store, TimeProvider time, SecretRegistry secrets, ILogger logger, HttpMessageHandler? handler = null)
    {
        this.url = url;
        this.minInterval = minInterval;
        this.store = store;
        this.time = time;
        this.secrets = secrets;
        this.logger = logger;
        http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.Timeout = Timeout.InfiniteTimeSpan;
        resilient = new ResilientHttp(Policy, time);
        if (url is not null)
        {
            // The webhook URL embeds its own secret (Slack/Discord tokens live in the path).
            secrets.Add(url.ToString());
            secrets.Add(url.AbsolutePath);
        }
    }

    public bool Enabled => url is not null;

    /// <summary>
    /// The shared transient rule with a notifier's budget: two retries, 10 s per attempt, and at most
    /// 30 s for a Retry-After (Slack and Discord send one with 429), so a notification never holds a
    /// cycle for minutes.
    /// </summary>
    internal static HttpRetryPolicy Policy { get; } = new()
    {
        MaxRetries = 2,
        AttemptTimeout = TimeSpan.FromSeconds(10),
        TimeoutVariable = "fixed for NOTIFY_WEBHOOK_URL",
        MaxRetryAfter = TimeSpan.FromSeconds(30),
    };

    /// <summary>Sends the message unless disabled or rate limited. Returns true when the webhook accepted it.</summary>
    public async Task<bool> NotifyAsync(NotificationKind kind, string message, CancellationToken cancellationToken)
    {
        if (url is null)
        {
            return false;
        }

        var stateKey = "notify.last." + kind.ToString();
        var now = time.GetUtcNow();
        var last = await store.ReadDeliveryStateAsync(stateKey, cancellationToken).ConfigureAwait(false);
        if (kind != NotificationKind.CostAlert && last is not null && DateTimeOffset.TryParse(last, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var lastAt) && now - lastAt < minInterval)
        {
            MeteringLog.NotifySuppressed(logger, kind.ToString(), minInterval);
            return false;
        }

        var text = secrets.Mask($"[dify-usage-exporter] {message}");
        text = text.Length > 1900 ? text[..1900] + "…" : text; // Discord refuses content over 2000 characters
        var body = JsonSerializer.Serialize(new NotifyBody(text, text), NotifyJson.Default.NotifyBody);
        try
        {
            using var response = await resilient.SendAsync(
                async attemptToken =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                    return await ResilientHttp.SendBufferedAsync(http, request, attemptToken).ConfigureAwait(false);
                },
                notice => MeteringLog.NotifyRetrying(logger, notice.Attempt, secrets.Mask(notice.Problem), (long)notice.Delay.TotalMilliseconds),
                cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                MeteringLog.NotifyFailed(logger, $"HTTP {(int)response.StatusCode}");
                return false;
            }
        }
        catch (Exception ex) when (HttpTransient.IsTransient(ex))
        {
            // A notification is best effort: the cycle's own outcome and logs carry the facts.
            MeteringLog.NotifyFailed(logger, secrets.Mask(ex.Message));
            return false;
        }

        await store.WriteDeliveryStateAsync(stateKey, StateStore.Format(now), cancellationToken).ConfigureAwait(false);
        DeliveryMetrics.Notifications.Add(1, new KeyValuePair<string, object?>("kind", kind.ToString()));
        return true;
    }

    public void Dispose() => http.Dispose();
}

internal sealed record NotifyBody(
    [property: System.Text.Json.Serialization.JsonPropertyName("text")] string Text,
    [property: System.Text.Json.Serialization.JsonPropertyName("content")] string Content);

[System.Text.Json.Serialization.JsonSerializable(typeof(NotifyBody))]
internal sealed partial class NotifyJson : System.Text.Json.Serialization.JsonSerializerContext;
