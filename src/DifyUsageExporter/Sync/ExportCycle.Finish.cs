using System.Globalization;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Storage;

namespace DifyUsageExporter.Sync;

/// <summary>The end of every export, whatever happened: the outcome, the summary line, the dead-letter warning and the notification.</summary>
public sealed partial class ExportCycle
{
    private async Task<ExportResult> FinishAsync(CycleRun run, CancellationToken cancellationToken)
    {
        var options = run.Options;
        var spool = await store.ReadOutboxAsync(null, null, null, cancellationToken).ConfigureAwait(false);
        var dead = spool.Count(r => r.Status == OutboxRow.Dead);
        var outcome = run.Failed || run.Incomplete.Count > 0 ? CycleOutcome.Failed : spool.Count > 0 ? CycleOutcome.Spooled : CycleOutcome.Success;
        var window = run.From is null ? "no days in the window" : $"{Iso.Day(run.From.Value)}..{Iso.Day(run.To!.Value)}";
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"{window}: {run.Totals.Count} keys, {run.Changed} changed, {run.Delivered} records delivered{(options.DryRun ? " (dry run: nothing sent)" : string.Empty)}, {spool.Count - dead} records pending in the spool, {dead} dead letters{(run.Concurrency is null ? string.Empty : "; " + run.Concurrency)}");
        if (run.Problems.Count > 0)
        {
            summary += "; " + string.Join("; ", run.Problems.Distinct(StringComparer.Ordinal));
        }

        if (dead > 0)
        {
            // Dead letters never leave by themselves: say so every cycle until an operator acts.
            var oldest = spool.Where(r => r.Status == OutboxRow.Dead).MinBy(r => r.CreatedAt)!;
            MeteringLog.DeadLettersWaiting(logger, dead, oldest.BatchId, Iso.Instant(oldest.CreatedAt));
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
            SyncLog.Finished(logger, level, run.RunId, name, summary);
        }

        return new ExportResult(outcome, summary, run.From, run.To, run.Incomplete, run.Totals, run.Changed, run.Delivered, spool.Count - dead, dead)
        {
            AppsSkipped = run.AppsSkipped,
            CredentialsRejected = run.CredentialsRejected,
            ChangedDays = run.ChangedDays,
        };
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
}
