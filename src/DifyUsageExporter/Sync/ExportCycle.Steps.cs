using DifyUsageExporter.Configuration;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Sync;

/// <summary>The steps of one export, in the order <see cref="ExportAsync"/> runs them.</summary>
public sealed partial class ExportCycle
{
    /// <summary>Pending batches go out first, so after an outage the first cycle that reaches API_Meter delivers everything.</summary>
    private async Task ResendSpoolAsync(CycleRun run, CancellationToken cancellationToken)
    {
        if (run.Options.DryRun)
        {
            return;
        }

        run.Resend = await delivery.SendPendingAsync(null, includeDead: false, countCycle: true, cancellationToken).ConfigureAwait(false);
        run.Delivered += run.Resend.RecordsDelivered;
        run.Problems.AddRange(run.Resend.Errors.Distinct(StringComparer.Ordinal).Take(3));
    }

    /// <summary>The explicit days, else the DIFY_FETCH_PERIOD window in the usage time zone; false when the window has no days.</summary>
    private bool ChooseWindow(CycleRun run, TimeZoneInfo zone)
    {
        var window = run.Options.From is { } f && run.Options.To is { } t
            ? (f, t)
            : FetchWindow.Compute(settings, UsageTime.LocalDate(time.GetUtcNow(), zone));
        if (window is null)
        {
            return false;
        }

        (run.From, run.To) = window.Value;
        SyncLog.Window(logger, run.RunId, run.Trigger, Iso.Day(run.From.Value), Iso.Day(run.To.Value), zone.Id);
        return true;
    }

    /// <summary>Reads Dify into the ledger (incrementally unless forced), then checks the cost alerts on what the ledger now holds.</summary>
    private async Task<ExtractionReport> ExtractAsync(CycleRun run, TimeZoneInfo zone, CancellationToken cancellationToken)
    {
        var (from, to) = (run.From!.Value, run.To!.Value);
        var report = await source.ExtractAsync(from, to, run.Options.FullRead || run.Options.Force, cancellationToken).ConfigureAwait(false);
        run.AppsSkipped = report.AppsSkipped;
        if (!run.Options.DryRun)
        {
            await new CostAlerts(settings, store, delivery.Notifier, time, logger).CheckAsync(zone, from, to, cancellationToken).ConfigureAwait(false);
        }

        run.Concurrency = report.Concurrency;
        return report;
    }

    /// <summary>Sorts the window's days into complete (deliverable), incomplete (reported, retried next cycle) and pruned (final, skipped).</summary>
    private async Task FindCompleteDaysAsync(CycleRun run, ExtractionReport report, CancellationToken cancellationToken)
    {
        var (from, to) = (run.From!.Value, run.To!.Value);
        var days = await store.ReadDayExtractionsAsync(from, to, cancellationToken).ConfigureAwait(false);
        var reportIncomplete = report.IncompleteDays().ToHashSet();
        var notComplete = new List<DateOnly>();
        var pruned = await store.ReadPrunedDaysAsync(cancellationToken).ConfigureAwait(false);
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            // LEDGER_RETENTION_DAYS removed this day's events after API_Meter acknowledged every
            // total: it is final. Re-sending it from what Dify still keeps could overwrite the
            // right totals with smaller ones (docs/operations.md, ledger retention).
            if (pruned.Contains(day))
            {
                MaintenanceLog.PrunedDaySkipped(logger, Iso.Day(day));
                continue;
            }

            if (days.TryGetValue(day, out var extraction) && extraction.Complete && !reportIncomplete.Contains(day))
            {
                run.Complete.Add(day);
            }
            else
            {
                notComplete.Add(day);
            }
        }

        run.Incomplete = notComplete;
        if (notComplete.Count > 0)
        {
            var apps = string.Join(", ", report.Failures.Select(x => $"{x.AppName} ({x.AppId}): {x.Reason}").Distinct(StringComparer.Ordinal).Take(10));
            SyncLog.IncompleteDays(logger, string.Join(", ", notComplete.Select(Iso.Day)), apps.Length == 0 ? "-" : apps);
            run.Problems.Add($"{notComplete.Count} incomplete day(s) not delivered: {string.Join(", ", notComplete.Take(5).Select(Iso.Day))}{(notComplete.Count > 5 ? ", …" : string.Empty)}");
        }
    }

    /// <summary>The complete days' (date, provider, model) totals, plus zeros for delivered keys whose events are gone.</summary>
    private async Task<IReadOnlyList<DailyTotal>> AggregateAsync(CycleRun run, CancellationToken cancellationToken)
    {
        var (from, to) = (run.From!.Value, run.To!.Value);
        // Only the days whose events changed are re-read from the ledger; the rest come from the
        // stored per-day totals, so a cycle without new data costs the same at any history size.
        var refresh = await store.RefreshDailyTotalsAsync(from, to, cancellationToken, run.ChangedDays).ConfigureAwait(false);
        SyncLog.Reaggregated(logger, refresh.Days, refresh.Events);
        run.Totals = await store.ReadDailyTotalsAsync(from, to, run.Complete.Contains, cancellationToken).ConfigureAwait(false);
        foreach (var mixed in run.Totals.Where(x => x.OtherCurrencies.Count > 0))
        {
            SyncLog.MixedCurrency(logger, mixed.Key.ToString(), string.Join(",", mixed.OtherCurrencies.Prepend(mixed.Currency)), mixed.Currency);
        }

        return await WithVanishedKeysAsync(run.Totals, run.Complete, from, to, cancellationToken).ConfigureAwait(false);
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
            if (DailyKey.TryParse(key) is { } parsed && complete.Contains(parsed.UsageDate))
            {
                result.Add(new DailyTotal(parsed, 0, 0, 0, 0m, "USD", []));
            }
        }

        return result;
    }

    /// <summary>The API_Meter items whose content differs from the last acknowledged delivery (all of them with --force).</summary>
    private async Task<List<OutboxItem>> ChangedItemsAsync(CycleRun run, IReadOnlyList<DailyTotal> sendable, CancellationToken cancellationToken)
    {
        var deliveredHashes = await store.ReadDeliveredHashesAsync(DeliveryService.ApiMeterTarget, run.From!.Value, run.To!.Value, cancellationToken).ConfigureAwait(false);
        // A key waiting in the spool with other content must be superseded even when the new
        // total equals the last acknowledged one, or the stale spooled total would go out later.
        var spooled = (await store.ReadOutboxAsync(DeliveryService.ApiMeterTarget, null, null, cancellationToken).ConfigureAwait(false))
            .ToDictionary(r => r.RecordKey, r => r.ContentHash, StringComparer.Ordinal);
        var items = DeliveryService.ApiMeterItems(sendable)
            .Where(i => run.Options.Force
                || !deliveredHashes.TryGetValue(i.RecordKey, out var hash) || hash != i.ContentHash
                || (spooled.TryGetValue(i.RecordKey, out var pendingHash) && pendingHash != i.ContentHash))
            .ToList();
        run.Changed = items.Count;
        SyncLog.Changed(logger, run.Changed, sendable.Count, run.Options.Force ? "forced: all keys" : "by content hash");
        return items;
    }

    /// <summary>The generic usage report of the complete days (USAGE_REPORT_URL), unless unchanged since its last delivery.</summary>
    private async Task<OutboxItem?> ReportItemAsync(TimeZoneInfo zone, HashSet<DateOnly> complete, bool force, CancellationToken cancellationToken)
    {
        if (!delivery.UsageReportConfigured || complete.Count == 0)
        {
            return null;
        }

        var (first, last) = (complete.Min(), complete.Max());
        var breakdown = await UsageBreakdown.BuildAsync(store.ReadEventsAsync(first, last, cancellationToken), d => ReportPeriods.Label(d, settings.AggregationPeriod), complete.Contains, cancellationToken).ConfigureAwait(false);
        var body = UsageReportPayload.Build(settings.OutputMode, settings.AggregationPeriod, first, last, zone, breakdown);
        var key = $"{UsageReportPayload.ModeName(settings.OutputMode)}|{ReportPeriods.Name(settings.AggregationPeriod)}|{Iso.Day(first)}|{Iso.Day(last)}";
        var hash = ApiMeterPayload.ContentHash(body);
        var deliveredHashes = await store.ReadDeliveredHashesAsync(DeliveryService.UsageReportTarget, last, last, cancellationToken).ConfigureAwait(false);
        if (!force && deliveredHashes.TryGetValue(key, out var previous) && previous == hash)
        {
            return null;
        }

        return new OutboxItem(key, last, body, hash);
    }

    /// <summary>--dry-run: the exact request bodies on the dry-run output; nothing is spooled or sent.</summary>
    private async Task PrintDryRunAsync(ExportOptions options, List<OutboxItem> items, OutboxItem? reportItem)
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
    }

    /// <summary>Spools the changed items, then sends the new batches to every target that took the spool at the start.</summary>
    private async Task DeliverAsync(CycleRun run, List<OutboxItem> items, OutboxItem? reportItem, CancellationToken cancellationToken)
    {
        if (items.Count > 0 && !delivery.ApiMeterConfigured)
        {
            throw new ConfigurationException(["EXTERNAL_API_URL and API_METER_TENANT_ID are required to deliver usage to API_Meter."]);
        }

        var down = run.Resend?.UnavailableTargets ?? [];
        var newBatches = new List<string>();
        var meterBatches = await delivery.EnqueueApiMeterAsync(items, run.Options.Force, cancellationToken).ConfigureAwait(false);
        if (!down.Contains(DeliveryService.ApiMeterTarget))
        {
            newBatches.AddRange(meterBatches);
        }

        if (reportItem is not null)
        {
            var reportBatches = await delivery.EnqueueReportAsync(reportItem, run.Options.Force, cancellationToken).ConfigureAwait(false);
            if (!down.Contains(DeliveryService.UsageReportTarget))
            {
                newBatches.AddRange(reportBatches);
            }
        }

        // A target that could not take the spool is down: its new batches wait for the next cycle.
        if (newBatches.Count > 0)
        {
            var pass = await delivery.SendPendingAsync(newBatches, includeDead: false, countCycle: true, cancellationToken).ConfigureAwait(false);
            run.Delivered += pass.RecordsDelivered;
            run.Problems.AddRange(pass.Errors.Distinct(StringComparer.Ordinal).Take(3));
        }
    }
}
