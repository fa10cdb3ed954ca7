using System.Globalization;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Sync;

/// <summary>What one export should do. Null dates = the configured DIFY_FETCH_PERIOD window.</summary>
/// <param name="FullRead">Ignore extraction watermarks and re-read the whole window.</param>
/// <param name="SummaryLine">Log the summary line (the `export` command; a cycle's executor logs its own).</param>
/// <param name="DryRun">Extract and aggregate, print the exact request bodies to <paramref name="DryRunOutput"/>, send and spool nothing.</param>
public sealed record ExportOptions(
    DateOnly? From = null,
    DateOnly? To = null,
    bool Force = false,
    bool DryRun = false,
    bool FullRead = false,
    TextWriter? DryRunOutput = null,
    bool SummaryLine = false);

/// <summary>What an export did.</summary>
public sealed record ExportResult(
    CycleOutcome Outcome,
    string Summary,
    DateOnly? From,
    DateOnly? To,
    IReadOnlyList<DateOnly> IncompleteDays,
    IReadOnlyList<DailyTotal> Totals,
    int KeysChanged,
    int RecordsDelivered,
    int SpoolRows,
    int DeadLetterRows)
{
    /// <summary>Apps the extraction skipped (unknown mode).</summary>
    public int AppsSkipped { get; init; }

    /// <summary>The export failed because Dify rejected the credentials.</summary>
    public bool CredentialsRejected { get; init; }
}

/// <summary>
/// One export cycle: resend the spool, resolve the usage time zone, compute the window, extract
/// into the ledger, aggregate the complete days to (date, provider, model) totals, spool the keys
/// whose content changed since their last acknowledged delivery, and send them. Incomplete days are
/// reported and left for the next cycle; what could not be sent waits in the spool (outcome Spooled).
/// </summary>
public sealed class ExportCycle : ICycleRunner
{
    private readonly ExporterSettings settings;
    private readonly SqliteStore store;
    private readonly IUsageSource source;
    private readonly DeliveryService delivery;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public ExportCycle(ExporterSettings settings, SqliteStore store, IUsageSource source, DeliveryService delivery, ILoggerFactory loggers, TimeProvider time)
    {
        this.settings = settings;
        this.store = store;
        this.source = source;
        this.delivery = delivery;
        this.time = time;
        logger = loggers.CreateLogger<ExportCycle>();
    }

    /// <inheritdoc />
    public async Task<CycleResult> RunCycleAsync(string trigger, string runId, CancellationToken cancellationToken)
    {
        var result = await ExportAsync(new ExportOptions(), runId, trigger, cancellationToken).ConfigureAwait(false);
        return new CycleResult(result.Outcome, result.Summary)
        {
            CaughtUp = result.Outcome != CycleOutcome.Failed && result.IncompleteDays.Count == 0 && result.SpoolRows == 0,
            AppsSkipped = result.AppsSkipped,
            CredentialsRejected = result.CredentialsRejected,
        };
    }

    /// <summary>Runs one export (the cycle, or the `export` command with explicit days).</summary>
    public async Task<ExportResult> ExportAsync(ExportOptions options, string runId, string trigger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        SpoolPass? resend = null;
        DateOnly? from = null, to = null;
        IReadOnlyList<DateOnly> incomplete = [];
        IReadOnlyList<DailyTotal> totals = [];
        var changed = 0;
        var delivered = 0;
        var skipped = 0;
        string? concurrency = null;
        delivery.Totals.Reset();
        source.BeginCycle();
        try
        {
            if (!options.DryRun)
            {
                resend = await delivery.SendPendingAsync(null, includeDead: false, countCycle: true, cancellationToken).ConfigureAwait(false);
                delivered += resend.RecordsDelivered;
                problems.AddRange(resend.Errors.Distinct(StringComparer.Ordinal).Take(3));
            }

            var zone = await source.ResolveTimeZoneAsync(cancellationToken).ConfigureAwait(false);
            var window = options.From is { } f && options.To is { } t
                ? (f, t)
                : FetchWindow.Compute(settings, FetchWindow.Today(time.GetUtcNow(), zone));
            if (window is null)
            {
                return await FinishAsync(options, runId, concurrency, problems, null, null, [], [], 0, delivered, cancellationToken).ConfigureAwait(false);
            }

            (from, to) = window.Value;
            SyncLog.Window(logger, runId, trigger, Day(from.Value), Day(to.Value), zone.Id);

            var report = await source.ExtractAsync(from.Value, to.Value, options.FullRead || options.Force, cancellationToken).ConfigureAwait(false);
            skipped = report.AppsSkipped;
            if (!options.DryRun)
            {
                await new CostAlerts(settings, store, delivery.Notifier, time, logger).CheckAsync(zone, from.Value, to.Value, cancellationToken).ConfigureAwait(false);
            }

            concurrency = report.Concurrency;
            var days = await store.ReadDayExtractionsAsync(from.Value, to.Value, cancellationToken).ConfigureAwait(false);
            var reportIncomplete = report.IncompleteDays().ToHashSet();
            var complete = new HashSet<DateOnly>();
            var notComplete = new List<DateOnly>();
            var pruned = await store.ReadPrunedDaysAsync(cancellationToken).ConfigureAwait(false);
            for (var day = from.Value; day <= to.Value; day = day.AddDays(1))
            {
                // LEDGER_RETENTION_DAYS removed this day's events after API_Meter acknowledged every
                // total: it is final. Re-sending it from what Dify still keeps could overwrite the
                // right totals with smaller ones (docs/operations.md, ledger retention).
                if (pruned.Contains(day))
                {
                    MaintenanceLog.PrunedDaySkipped(logger, Day(day));
                    continue;
                }

                if (days.TryGetValue(day, out var extraction) && extraction.Complete && !reportIncomplete.Contains(day))
                {
                    complete.Add(day);
                }
                else
                {
                    notComplete.Add(day);
                }
            }

            incomplete = notComplete;
            if (incomplete.Count > 0)
            {
                var apps = string.Join(", ", report.Failures.Select(x => $"{x.AppName} ({x.AppId}): {x.Reason}").Distinct(StringComparer.Ordinal).Take(10));
                SyncLog.IncompleteDays(logger, string.Join(", ", incomplete.Select(Day)), apps.Length == 0 ? "-" : apps);
                problems.Add($"{incomplete.Count} incomplete day(s) not delivered: {string.Join(", ", incomplete.Take(5).Select(Day))}{(incomplete.Count > 5 ? ", …" : string.Empty)}");
            }

            // Only the days whose events changed are re-read from the ledger; the rest come from the
            // stored per-day totals, so a cycle without new data costs the same at any history size.
            var refresh = await store.RefreshDailyTotalsAsync(from.Value, to.Value, cancellationToken).ConfigureAwait(false);
            SyncLog.Reaggregated(logger, refresh.Days, refresh.Events);
            totals = await store.ReadDailyTotalsAsync(from.Value, to.Value, complete.Contains, cancellationToken).ConfigureAwait(false);
            foreach (var mixed in totals.Where(x => x.OtherCurrencies.Count > 0))
            {
                SyncLog.MixedCurrency(logger, mixed.Key.ToString(), string.Join(",", mixed.OtherCurrencies.Prepend(mixed.Currency)), mixed.Currency);
            }

            var sendable = await WithVanishedKeysAsync(totals, complete, from.Value, to.Value, cancellationToken).ConfigureAwait(false);
            var deliveredHashes = await store.ReadDeliveredHashesAsync(DeliveryService.ApiMeterTarget, from.Value, to.Value, cancellationToken).ConfigureAwait(false);
            // A key waiting in the spool with other content must be superseded even when the new
            // total equals the last acknowledged one, or the stale spooled total would go out later.
            var spooled = (await store.ReadOutboxAsync(DeliveryService.ApiMeterTarget, null, null, cancellationToken).ConfigureAwait(false))
                .ToDictionary(r => r.RecordKey, r => r.ContentHash, StringComparer.Ordinal);
            var items = DeliveryService.ApiMeterItems(sendable)
                .Where(i => options.Force
                    || !deliveredHashes.TryGetValue(i.RecordKey, out var hash) || hash != i.ContentHash
                    || (spooled.TryGetValue(i.RecordKey, out var pendingHash) && pendingHash != i.ContentHash))
                .ToList();
            changed = items.Count;
            SyncLog.Changed(logger, changed, sendable.Count, options.Force ? "forced: all keys" : "by content hash");

            var reportItem = await ReportItemAsync(zone, from.Value, to.Value, complete, options.Force, cancellationToken).ConfigureAwait(false);

            if (options.DryRun)
            {
                var output = options.DryRunOutput ?? TextWriter.Null;
                if (items.Count > 0)
                {
                    foreach (var body in delivery.BuildApiMeterRequests(items))
                    {
                        await output.WriteLineAsync(body).ConfigureAwait(false);
                    }
                }

                if (reportItem is not null)
                {
                    await output.WriteLineAsync(reportItem.RecordJson).ConfigureAwait(false);
                }

                return await FinishAsync(options, runId, concurrency, problems, from, to, incomplete, totals, changed, 0, cancellationToken).ConfigureAwait(false);
            }

            if (items.Count > 0 && !delivery.ApiMeterConfigured)
            {
                throw new ConfigurationException(["EXTERNAL_API_URL and API_METER_TENANT_ID are required to deliver usage to API_Meter."]);
            }

            var down = resend?.UnavailableTargets ?? [];
            var newBatches = new List<string>();
            var meterBatches = await delivery.EnqueueApiMeterAsync(items, options.Force, cancellationToken).ConfigureAwait(false);
            if (!down.Contains(DeliveryService.ApiMeterTarget))
            {
                newBatches.AddRange(meterBatches);
            }

            if (reportItem is not null)
            {
                var reportBatches = await delivery.EnqueueReportAsync(reportItem, options.Force, cancellationToken).ConfigureAwait(false);
                if (!down.Contains(DeliveryService.UsageReportTarget))
                {
                    newBatches.AddRange(reportBatches);
                }
            }

            // A target that could not take the spool is down: its new batches wait for the next cycle.
            if (newBatches.Count > 0)
            {
                var pass = await delivery.SendPendingAsync(newBatches, includeDead: false, countCycle: true, cancellationToken).ConfigureAwait(false);
                delivered += pass.RecordsDelivered;
                problems.AddRange(pass.Errors.Distinct(StringComparer.Ordinal).Take(3));
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The cycle boundary: any failure of extraction or delivery ends this cycle as Failed
            // (logged once here, notified); the spool keeps whatever was written.
            SyncLog.Failed(logger, runId, ex.Message);
            problems.Insert(0, ex.Message);
            var failed = await FinishAsync(options, runId, concurrency, problems, from, to, incomplete, totals, changed, delivered, cancellationToken, failed: true).ConfigureAwait(false);
            return failed with { AppsSkipped = skipped, CredentialsRejected = IsCredentialsRejection(ex) };
        }

        return (await FinishAsync(options, runId, concurrency, problems, from, to, incomplete, totals, changed, delivered, cancellationToken).ConfigureAwait(false)) with { AppsSkipped = skipped };
    }

    private async Task<IReadOnlyList<DailyTotal>> WithVanishedKeysAsync(IReadOnlyList<DailyTotal> totals, HashSet<DateOnly> complete, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        // A key delivered earlier whose events are all gone now (re-read and replaced) must be
        // overwritten with zeros, otherwise the server keeps a total the ledger no longer holds.
        var delivered = await store.ReadDeliveredHashesAsync(DeliveryService.ApiMeterTarget, from, to, cancellationToken).ConfigureAwait(false);
        var present = totals.Select(x => x.Key.ToString()).ToHashSet(StringComparer.Ordinal);
        var result = totals.ToList();
        foreach (var key in delivered.Keys.Where(k => !present.Contains(k)))
        {
            var parts = key.Split('|', 3);
            if (parts.Length == 3 && DateOnly.TryParseExact(parts[0], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) && complete.Contains(date))
            {
                result.Add(new DailyTotal(new DailyKey(date, parts[1], parts[2]), 0, 0, 0, 0m, "USD", []));
            }
        }

        return result;
    }

    private async Task<OutboxItem?> ReportItemAsync(TimeZoneInfo zone, DateOnly from, DateOnly to, HashSet<DateOnly> complete, bool force, CancellationToken cancellationToken)
    {
        if (!delivery.UsageReportConfigured || complete.Count == 0)
        {
            return null;
        }

        var breakdown = await UsageBreakdown.BuildAsync(store.ReadEventsAsync(from, to, cancellationToken), settings.AggregationPeriod, complete.Contains, cancellationToken).ConfigureAwait(false);
        var body = UsageReportPayload.Build(settings.OutputMode, settings.AggregationPeriod, complete.Min(), complete.Max(), zone, breakdown);
        var key = $"{UsageReportPayload.ModeName(settings.OutputMode)}|{ReportPeriods.Name(settings.AggregationPeriod)}|{Day(complete.Min())}|{Day(complete.Max())}";
        var hash = ApiMeterPayload.ContentHash(body);
        var deliveredHashes = await store.ReadDeliveredHashesAsync(DeliveryService.UsageReportTarget, complete.Max(), complete.Max(), cancellationToken).ConfigureAwait(false);
        if (!force && deliveredHashes.TryGetValue(key, out var previous) && previous == hash)
        {
            return null;
        }

        return new OutboxItem(key, complete.Max(), body, hash);
    }

    private async Task<ExportResult> FinishAsync(ExportOptions options, string runId, string? concurrency, List<string> problems, DateOnly? from, DateOnly? to, IReadOnlyList<DateOnly> incomplete, IReadOnlyList<DailyTotal> totals, int changed, int delivered, CancellationToken cancellationToken, bool failed = false)
    {
        var spool = await store.ReadOutboxAsync(null, null, null, cancellationToken).ConfigureAwait(false);
        var dead = spool.Count(r => r.Status == OutboxRow.Dead);
        var outcome = failed || incomplete.Count > 0 ? CycleOutcome.Failed : spool.Count > 0 ? CycleOutcome.Spooled : CycleOutcome.Success;
        var window = from is null ? "no days in the window" : $"{Day(from.Value)}..{Day(to!.Value)}";
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"{window}: {totals.Count} keys, {changed} changed, {delivered} records delivered{(options.DryRun ? " (dry run: nothing sent)" : string.Empty)}, {spool.Count - dead} records pending in the spool, {dead} dead letters{(concurrency is null ? string.Empty : "; " + concurrency)}");
        if (problems.Count > 0)
        {
            summary += "; " + string.Join("; ", problems.Distinct(StringComparer.Ordinal));
        }

        if (dead > 0)
        {
            // Dead letters never leave by themselves: say so every cycle until an operator acts.
            var oldest = spool.Where(r => r.Status == OutboxRow.Dead).MinBy(r => r.CreatedAt)!;
            MeteringLog.DeadLettersWaiting(logger, dead, oldest.BatchId, SqliteStore.Format(oldest.CreatedAt));
        }

        if (!options.DryRun)
        {
            delivery.LogSummary();
            await NotifyAsync(outcome, summary, cancellationToken).ConfigureAwait(false);
        }

        if (options.SummaryLine)
        {
            // The `export` command has no cycle executor: this is its one summary line.
            var name = outcome.ToString().ToLowerInvariant();
            var level = SyncLog.SummaryLevel(name);
            SyncLog.Finished(logger, level, runId, name, summary);
        }
        return new ExportResult(outcome, summary, from, to, incomplete, totals, changed, delivered, spool.Count - dead, dead);
    }

    private async Task NotifyAsync(CycleOutcome outcome, string summary, CancellationToken cancellationToken)
    {
        const string HealthKey = "health";
        var previous = await store.ReadDeliveryStateAsync(HealthKey, cancellationToken).ConfigureAwait(false);
        if (outcome == CycleOutcome.Success)
        {
            if (previous == "failing")
            {
                await delivery.Notifier.NotifyAsync(NotificationKind.Recovered, $"Recovered: the export cycle succeeded again. {summary}", cancellationToken).ConfigureAwait(false);
            }

            await store.WriteDeliveryStateAsync(HealthKey, "ok", cancellationToken).ConfigureAwait(false);
            return;
        }

        await store.WriteDeliveryStateAsync(HealthKey, "failing", cancellationToken).ConfigureAwait(false);
        var what = outcome == CycleOutcome.Spooled ? "Delivery incomplete, data waits in the spool" : "Export cycle failed";
        await delivery.Notifier.NotifyAsync(NotificationKind.CycleFailed, $"{what}: {summary}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Failures only the operator can fix by changing the credentials (docs/operations.md, "Health").</summary>
    private static bool IsCredentialsRejection(Exception ex) =>
        ex is DifyAuthException { Failure: DifyAuthFailure.WrongCredentials or DifyAuthFailure.AccountLocked or DifyAuthFailure.AccountDisabled or DifyAuthFailure.AdminKeyRejected or DifyAuthFailure.PasswordEncoding };

    private static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
