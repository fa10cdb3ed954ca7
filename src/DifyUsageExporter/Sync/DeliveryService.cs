using DifyUsageExporter.Configuration;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Telemetry;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Sync;

/// <summary>The result of one pass over the spool.</summary>
/// <param name="UnavailableTargets">Targets that could not be reached (retries exhausted) or refused the token/URL: don't send more to them this cycle.</param>
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
/// store before they are sent, marked delivered only after a confirmed 2xx, and otherwise stay
/// pending with attempts, failed cycles and the last error. Dead letters (kept until `spool
/// discard`) are only records API_Meter rejects (400/422) and batches that got an unexplained
/// answer in MAX_SPOOL_RETRIES cycles; see docs/delivery.md.
/// </summary>
public sealed class DeliveryService : IDisposable
{
    public const string ApiMeterTarget = "api_meter";
    public const string UsageReportTarget = "usage_report";
    public const int MaxBatchSize = 500;

    private readonly ExporterSettings settings;
    private readonly StateStore store;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly HttpOutputClient? apiMeter;
    private readonly HttpOutputClient? usageReport;
    private bool policyChecked;

    /// <param name="handler">Optional HTTP handler (tests); null = default sockets.</param>
    /// <param name="retryBaseDelay">First backoff delay (default 1 s; doubled per retry, with jitter).</param>
    public DeliveryService(ExporterSettings settings, StateStore store, TimeProvider time, ILoggerFactory loggers, SecretRegistry secrets, HttpMessageHandler? handler = null, TimeSpan? retryBaseDelay = null)
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
    /// restricted to <paramref name="onlyBatches"/> when given. The dead-letter policy
    /// (docs/delivery.md): an unreachable target (network, timeout, 408, 429, 5xx) or one refusing
    /// the token/URL (401/403/404/405) ends this pass for that target, and neither the failed batch
    /// nor the untried ones are charged; a 400/422 splits the batch until the rejected records are
    /// isolated, which become dead letters at once while the rest is delivered; only an unexplained
    /// answer costs a batch one of its MAX_SPOOL_RETRIES cycles.
    /// </summary>
    /// <param name="countCycle">True in an export cycle: an unexplained answer costs the batch one cycle.</param>
    public async Task<SpoolPass> SendPendingAsync(IReadOnlyCollection<string>? onlyBatches, bool includeDead, bool countCycle, CancellationToken cancellationToken)
    {
        await ReviveLegacyDeadLettersAsync(cancellationToken).ConfigureAwait(false);
        var rows = (await store.ReadOutboxAsync(null, null, null, cancellationToken).ConfigureAwait(false))
            .Where(r => (r.Status == OutboxRow.Pending || (includeDead && r.Status == OutboxRow.Dead)) && (onlyBatches is null || onlyBatches.Contains(r.BatchId)))
            .ToList();
        var pass = new PassState(countCycle);
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
                pass.Errors.Add($"{targetRows.Count()} records for {targetRows.Key} wait: target not configured");
                pass.Failed++;
                continue;
            }

            var chunkSize = targetRows.Key == ApiMeterTarget ? BatchSize : 1;
            foreach (var batch in targetRows.GroupBy(r => r.BatchId).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                foreach (var chunk in batch.Chunk(chunkSize))
                {
                    using var claim = await store.ClaimAsync(chunk, cancellationToken).ConfigureAwait(false);
                    if (pass.Down.Contains(targetRows.Key) || claim.Rows.Count == 0)
                    {
                        // Untried because the target is down (or another replica sends these rows, StateStore.Claims.cs): no attempt, no charge.
                        pass.Failed++;
                        continue;
                    }

                    await SendChunkAsync(client, targetRows.Key, batch.Key, claim.Rows, pass, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        foreach (var (batchId, reason) in pass.Dead)
        {
            var deadRows = await store.ReadOutboxAsync(null, batchId, OutboxRow.Dead, cancellationToken).ConfigureAwait(false);
            var lastError = deadRows.Count > 0 ? deadRows[0].LastError ?? "unknown" : "unknown";
            DeliveryMetrics.DeadLetters.Add(1);
            MeteringLog.DeadLettered(logger, batchId, deadRows.Count > 0 ? deadRows[0].Target : "?", deadRows.Count, reason, lastError);
            await Notifier.NotifyAsync(
                NotificationKind.DeadLetter,
                $"Batch {batchId} ({deadRows.Count} records) became a dead letter ({reason}). Last error: {lastError}. It is kept; see `spool list`, then `spool resend {batchId}` or `spool discard {batchId}`.",
                cancellationToken).ConfigureAwait(false);
        }

        return new SpoolPass(pass.Delivered, pass.Records, pass.Failed, pass.Down, pass.Dead.Keys.ToList(), pass.Errors);
    }

    /// <summary>
    /// Versions before this dead-letter policy also dead-lettered batches an outage kept from
    /// delivery (even untried ones). Once per store, those go back to pending to be judged again.
    /// </summary>
    private async Task ReviveLegacyDeadLettersAsync(CancellationToken cancellationToken)
    {
        const string PolicyKey = "dead_letter_policy";
        if (policyChecked || await store.ReadDeliveryStateAsync(PolicyKey, cancellationToken).ConfigureAwait(false) == "2")
        {
            policyChecked = true;
            return;
        }

        var revived = await store.ReviveDeadLettersAsync(cancellationToken).ConfigureAwait(false);
        await store.WriteDeliveryStateAsync(PolicyKey, "2", cancellationToken).ConfigureAwait(false);
        policyChecked = true;
        if (revived > 0)
        {
            MeteringLog.DeadLettersRevived(logger, revived);
        }
    }

    private async Task SendChunkAsync(HttpOutputClient client, string target, string batchId, IReadOnlyList<OutboxRow> chunk, PassState pass, CancellationToken cancellationToken)
    {
        var isMeter = target == ApiMeterTarget;
        var body = isMeter
            ? ApiMeterPayload.BuildRequest(TenantId(), time.GetUtcNow(), chunk.Select(r => (r.UsageDate, r.RecordJson)).ToList())
            : chunk[0].RecordJson;
        SendResult result;
        using (var span = ExporterTracing.Source.StartActivity(ExporterTracing.DeliverySpan))
        {
            span?.SetTag("dify_exporter.target", target);
            span?.SetTag("dify_exporter.batch_id", batchId);
            span?.SetTag("dify_exporter.records", chunk.Count);
            result = await client.PostAsync(body, cancellationToken, isMeter ? chunk.Count : null).ConfigureAwait(false);
            span?.SetTag("dify_exporter.outcome", result.Outcome.ToString().ToLowerInvariant());
            if (result.Outcome != SendOutcome.Delivered)
            {
                // The status code only: a response body is no place for a trace attribute.
                ExporterTracing.Fail(span, result.StatusCode is { } status ? $"HTTP {status}" : "no response");
            }
        }

        switch (result.Outcome)
        {
            case SendOutcome.Delivered:
                // Confirmed by API_Meter: recorded even when a stop signal arrived meanwhile.
                await store.MarkDeliveredAsync(chunk, CancellationToken.None).ConfigureAwait(false);
                pass.Delivered++;
                pass.Records += chunk.Count;
                Totals.Batches++;
                Totals.Records += chunk.Count;
                DeliveryMetrics.RecordsDelivered.Add(chunk.Count, new KeyValuePair<string, object?>("target", target));
                Totals.Inserted += result.Inserted ?? 0;
                Totals.Updated += result.Updated ?? 0;
                Totals.Total += result.Total ?? 0;
                MeteringLog.Delivered(logger, chunk.Count, target, batchId, result.StatusCode ?? 0, Show(result.Inserted), Show(result.Updated), Show(result.Total));
                return;
            case SendOutcome.Rejected when chunk.Count > 1:
                // Halve until each rejected record stands alone: the others are delivered, and only
                // what API_Meter refuses becomes a dead letter (with its own error message).
                MeteringLog.Splitting(logger, target, chunk.Count, result.StatusCode ?? 0);
                var half = chunk.Count / 2;
                foreach (var part in new[] { chunk.Take(half).ToList(), chunk.Skip(half).ToList() })
                {
                    if (!pass.Down.Contains(target))
                    {
                        await SendChunkAsync(client, target, batchId, part, pass, cancellationToken).ConfigureAwait(false);
                    }
                }

                return;
        }

        pass.Failed++;
        Totals.FailedBatches++;
        DeliveryMetrics.BatchesFailed.Add(1, new KeyValuePair<string, object?>("target", target));
        var error = result.Error ?? "failed";
        pass.Errors.Add(error);
        switch (result.Outcome)
        {
            case SendOutcome.Rejected:
                var deadBatch = await store.MarkRejectedAsync(chunk, result.Attempts, error, cancellationToken).ConfigureAwait(false);
                if (deadBatch is not null)
                {
                    pass.Dead[deadBatch] = "rejected by " + target;
                }

                break;
            case SendOutcome.Unexplained:
                foreach (var dead in await store.MarkFailedAsync(chunk, result.Attempts, error, pass.CountCycle, settings.MaxSpoolRetries, cancellationToken).ConfigureAwait(false))
                {
                    pass.Dead[dead] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{settings.MaxSpoolRetries} cycles with an unexplained answer (MAX_SPOOL_RETRIES)");
                }

                break;
            default:
                // Unreachable or refused: recorded (attempts, error) but never charged a cycle.
                await store.MarkFailedAsync(chunk, result.Attempts, error, false, settings.MaxSpoolRetries, cancellationToken).ConfigureAwait(false);
                pass.Down.Add(target);
                break;
        }
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

    /// <summary>The mutable state of one pass over the spool.</summary>
    private sealed class PassState(bool countCycle)
    {
        public bool CountCycle { get; } = countCycle;

        public int Delivered { get; set; }

        public int Records { get; set; }

        public int Failed { get; set; }

        public HashSet<string> Down { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, string> Dead { get; } = new(StringComparer.Ordinal);

        public List<string> Errors { get; } = [];
    }

    private static string Show(long? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-";
}
