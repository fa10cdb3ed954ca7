using DifyUsageExporter.Configuration;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Telemetry;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Metering;

/// <summary>The result of one pass over the spool.</summary>
/// <param name="UnavailableTargets">Targets that could not be reached (retries exhausted): don't send more to them this cycle.</param>
public sealed record SpoolPass(int BatchesDelivered, int RecordsDelivered, int BatchesFailed, IReadOnlyCollection<string> UnavailableTargets, IReadOnlyList<string> DeadLettered, IReadOnlyList<string> Errors);

/// <summary>Per-run counters for the delivery summary log line.</summary>
public sealed class DeliveryTotals
{
    public int Batches { get; set; }
    public int Records { get; set; }
    public int FailedBatches { get; set; }
    public long Inserted { get; set; }
    public long Updated { get; set; }
    public long Total { get; set; }

    public void Reset() => (Batches, Records, FailedBatches, Inserted, Updated, Total) = (0, 0, 0, 0, 0, 0);
}

/// <summary>
/// The durable outbox in front of API_Meter and the generic usage report: items are written to the
/// store before they are sent, marked delivered only after a 2xx, and otherwise stay pending with
/// attempts, failed cycles and the last error until they become dead letters after
/// MAX_SPOOL_RETRIES failed cycles (kept until `spool discard`).
/// </summary>
public sealed class DeliveryService : IDisposable
{
    public const string ApiMeterTarget = "api_meter";
    public const string UsageReportTarget = "usage_report";
    public const int MaxBatchSize = 500;

    private readonly ExporterSettings settings;
    private readonly SqliteStore store;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly HttpOutputClient? apiMeter;
    private readonly HttpOutputClient? usageReport;

    /// <param name="handler">Optional HTTP handler (tests); null = default sockets.</param>
    /// <param name="retryBaseDelay">First backoff delay (default 1 s; doubled per retry, with jitter).</param>
    public DeliveryService(ExporterSettings settings, SqliteStore store, TimeProvider time, ILoggerFactory loggers, SecretRegistry secrets, HttpMessageHandler? handler = null, TimeSpan? retryBaseDelay = null)
    {
        this.settings = settings;
        this.store = store;
        this.time = time;
        logger = loggers.CreateLogger<DeliveryService>();
        if (settings.ExternalApiUrl is not null)
        {
            apiMeter = new HttpOutputClient("API_Meter", settings.ExternalApiUrl, settings.ExternalApiToken, settings.ExternalApiTimeout, settings.MaxRetry, settings.AllowInsecureHttp, time, logger, secrets, handler, retryBaseDelay);
        }

        if (settings.UsageReportUrl is not null)
        {
            usageReport = new HttpOutputClient("USAGE_REPORT_URL", settings.UsageReportUrl, settings.ExternalApiToken, settings.ExternalApiTimeout, settings.MaxRetry, settings.AllowInsecureHttp, time, logger, secrets, handler, retryBaseDelay);
        }

        Notifier = new WebhookNotifier(settings.NotifyWebhookUrl, settings.NotifyMinInterval, store, time, secrets, loggers.CreateLogger<WebhookNotifier>(), handler);
    }

    public WebhookNotifier Notifier { get; }

    public DeliveryTotals Totals { get; } = new();

    public int BatchSize => Math.Clamp(settings.ApiMeterBatchSize, 1, MaxBatchSize);

    public bool ApiMeterConfigured => apiMeter is not null && settings.ApiMeterTenantId is not null;

    public bool UsageReportConfigured => usageReport is not null;

    /// <summary>The spool items of API_Meter totals (record JSON and its content hash).</summary>
    public static IReadOnlyList<OutboxItem> ApiMeterItems(IEnumerable<DailyTotal> totals) =>
        totals.Select(t =>
        {
            var json = ApiMeterPayload.RecordJson(t);
            return new OutboxItem(t.Key.ToString(), t.Key.UsageDate, json, ApiMeterPayload.ContentHash(json));
        }).ToList();

    /// <summary>The exact request bodies that sending these items would produce now (dry run).</summary>
    public IReadOnlyList<string> BuildApiMeterRequests(IReadOnlyList<OutboxItem> items) =>
        items.Chunk(BatchSize).Select(chunk => ApiMeterPayload.BuildRequest(TenantId(), time.GetUtcNow(), chunk.Select(i => (i.UsageDate, i.RecordJson)).ToList())).ToList();

    /// <summary>Writes changed API_Meter totals to the spool; returns the new batch ids.</summary>
    public Task<IReadOnlyList<string>> EnqueueApiMeterAsync(IReadOnlyList<OutboxItem> items, bool force, CancellationToken cancellationToken) =>
        store.EnqueueAsync(ApiMeterTarget, items, BatchSize, force, cancellationToken);

    /// <summary>Writes a usage report body to the spool (one row per report key); returns the new batch ids.</summary>
    public Task<IReadOnlyList<string>> EnqueueReportAsync(OutboxItem report, bool force, CancellationToken cancellationToken) =>
        store.EnqueueAsync(UsageReportTarget, [report], 1, force, cancellationToken);

    /// <summary>
    /// Sends spooled batches (pending ones; dead letters too when <paramref name="includeDead"/>),
    /// restricted to <paramref name="onlyBatches"/> when given. After one target proves unreachable,
    /// its remaining batches are not attempted in this pass but still counted as failed.
    /// </summary>
    /// <param name="countCycle">True in an export cycle: each failed batch gets one more failed cycle.</param>
    public async Task<SpoolPass> SendPendingAsync(IReadOnlyCollection<string>? onlyBatches, bool includeDead, bool countCycle, CancellationToken cancellationToken)
    {
        var rows = (await store.ReadOutboxAsync(null, null, null, cancellationToken).ConfigureAwait(false))
            .Where(r => r.Status == OutboxRow.Pending || (includeDead && r.Status == OutboxRow.Dead))
            .Where(r => onlyBatches is null || onlyBatches.Contains(r.BatchId))
            .ToList();
        int delivered = 0, records = 0, failed = 0;
        var unavailable = new HashSet<string>(StringComparer.Ordinal);
        var dead = new List<string>();
        var errors = new List<string>();
        foreach (var targetRows in rows.GroupBy(r => r.Target))
        {
            var client = targetRows.Key switch
            {
                ApiMeterTarget when ApiMeterConfigured => apiMeter,
                UsageReportTarget => usageReport,
                _ => null,
            };
            if (client is null)
            {
                MeteringLog.TargetNotConfigured(logger, targetRows.Count(), targetRows.Key);
                errors.Add($"{targetRows.Count()} records for {targetRows.Key} wait: target not configured");
                failed++;
                continue;
            }

            var chunkSize = targetRows.Key == ApiMeterTarget ? BatchSize : 1;
            var targetDown = false;
            foreach (var batch in targetRows.GroupBy(r => r.BatchId).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                foreach (var chunk in batch.Chunk(chunkSize))
                {
                    if (targetDown)
                    {
                        dead.AddRange(await store.MarkFailedAsync(chunk, 0, "not attempted: the target was unreachable earlier in this cycle", countCycle, settings.MaxSpoolRetries, cancellationToken).ConfigureAwait(false));
                        failed++;
                        continue;
                    }

                    var body = targetRows.Key == ApiMeterTarget
                        ? ApiMeterPayload.BuildRequest(TenantId(), time.GetUtcNow(), chunk.Select(r => (r.UsageDate, r.RecordJson)).ToList())
                        : chunk[0].RecordJson;
                    using var span = ExporterTracing.Source.StartActivity(ExporterTracing.DeliverySpan);
                    span?.SetTag("dify_exporter.target", targetRows.Key);
                    span?.SetTag("dify_exporter.batch_id", batch.Key);
                    span?.SetTag("dify_exporter.records", chunk.Length);
                    var result = await client.PostAsync(body, cancellationToken).ConfigureAwait(false);
                    span?.SetTag("dify_exporter.outcome", result.Delivered ? "delivered" : "failed");
                    if (!result.Delivered)
                    {
                        // The status code only: a response body is no place for a trace attribute.
                        ExporterTracing.Fail(span, result.StatusCode is { } status ? $"HTTP {status}" : "no response");
                    }

                    if (result.Delivered)
                    {
                        await store.MarkDeliveredAsync(chunk, cancellationToken).ConfigureAwait(false);
                        delivered++;
                        records += chunk.Length;
                        Totals.Batches++;
                        Totals.Records += chunk.Length;
                        DeliveryMetrics.RecordsDelivered.Add(chunk.Length, new KeyValuePair<string, object?>("target", targetRows.Key));
                        Totals.Inserted += result.Inserted ?? 0;
                        Totals.Updated += result.Updated ?? 0;
                        Totals.Total += result.Total ?? 0;
                        MeteringLog.Delivered(logger, chunk.Length, targetRows.Key, batch.Key, result.StatusCode ?? 0, Show(result.Inserted), Show(result.Updated), Show(result.Total));
                        continue;
                    }

                    failed++;
                    Totals.FailedBatches++;
                    DeliveryMetrics.BatchesFailed.Add(1, new KeyValuePair<string, object?>("target", targetRows.Key));
                    errors.Add(result.Error ?? "failed");
                    var newlyDead = await store.MarkFailedAsync(chunk, result.Attempts, result.Error ?? "failed", countCycle, settings.MaxSpoolRetries, cancellationToken).ConfigureAwait(false);
                    dead.AddRange(newlyDead);
                    if (result.Transient)
                    {
                        targetDown = true;
                        unavailable.Add(targetRows.Key);
                    }
                }
            }
        }

        foreach (var batchId in dead.Distinct(StringComparer.Ordinal))
        {
            var deadRows = await store.ReadOutboxAsync(null, batchId, OutboxRow.Dead, cancellationToken).ConfigureAwait(false);
            var lastError = deadRows.Count > 0 ? deadRows[0].LastError ?? "unknown" : "unknown";
            var cycles = deadRows.Count == 0 ? 0 : deadRows.Max(r => r.FailedCycles);
            DeliveryMetrics.DeadLetters.Add(1);
            MeteringLog.DeadLettered(logger, batchId, deadRows.Count > 0 ? deadRows[0].Target : "?", cycles, deadRows.Count, lastError);
            await Notifier.NotifyAsync(
                NotificationKind.DeadLetter,
                $"Batch {batchId} ({deadRows.Count} records) became a dead letter after {cycles} failed cycles. Last error: {lastError}. It is kept; see `spool list`, then `spool resend {batchId}` or `spool discard {batchId}`.",
                cancellationToken).ConfigureAwait(false);
        }

        return new SpoolPass(delivered, records, failed, unavailable, dead.Distinct(StringComparer.Ordinal).ToList(), errors);
    }

    /// <summary>Logs the per-run summary (batches, records, API_Meter inserted/updated/total).</summary>
    public void LogSummary() => MeteringLog.Summary(logger, Totals.Batches, Totals.Records, Totals.Inserted, Totals.Updated, Totals.Total, Totals.FailedBatches);

    public void Dispose()
    {
        apiMeter?.Dispose();
        usageReport?.Dispose();
        Notifier.Dispose();
    }

    private Guid TenantId() => settings.ApiMeterTenantId ?? throw new ConfigurationException(["API_METER_TENANT_ID is required to send to API_Meter (a UUID)."]);

    private static string Show(long? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-";
}
