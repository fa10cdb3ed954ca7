using DifyUsageExporter.Configuration;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Sync;

/// <summary>
/// The daemon's daily maintenance (docs/operations.md, "Backups, verify and retention"): an online
/// backup into BACKUP_DIR and backup retention, ledger retention (under the cycle lock, so it never
/// races a cycle's spool writes), and the quick verify whose result /health reports. Each step's
/// failure is logged and reported, and never stops the export schedule.
/// </summary>
public sealed class MaintenanceJobs(ExporterSettings settings, StateStore store, MaintenanceStatus status, TimeProvider time, ILogger logger)
{
    /// <summary>How long ledger retention waits for a running cycle to release the lock.</summary>
    public static readonly TimeSpan LockWait = TimeSpan.FromMinutes(30);

    /// <summary>Runs the quick verify at start, then the daily maintenance at each firing of BACKUP_SCHEDULE until <paramref name="stopping"/>.</summary>
    public async Task RunScheduleAsync(CancellationToken stopping)
    {
        Step("verify", () => Verify(full: false));
        var schedule = CronSchedule.Parse(settings.BackupSchedule, settings.CronTimeZone);
        while (!stopping.IsCancellationRequested)
        {
            var next = schedule.NextAfter(time.GetUtcNow());
            MaintenanceLog.NextMaintenance(logger, StateStore.Format(next), settings.BackupSchedule);
            try
            {
                // Wait in bounded steps and re-read the clock after each, like the cycle scheduler
                // (docs/operations.md): Task.Delay cannot wait more than 49.7 days, so a yearly
                // BACKUP_SCHEDULE would otherwise throw, and a clock jump or suspend is noticed within a step.
                TimeSpan remaining;
                while ((remaining = next - time.GetUtcNow()) > TimeSpan.Zero)
                {
                    var step = remaining < Scheduler.MaxStep ? remaining : Scheduler.MaxStep;
                    await Task.Delay(step, time, stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await RunDailyAsync(stopping).ConfigureAwait(false);
        }
    }

    /// <summary>Backup, backup retention, ledger retention, quick verify.</summary>
    public async Task RunDailyAsync(CancellationToken cancellationToken)
    {
        // On PostgreSQL backups are pg_dump's (docs/state-postgres.md); the exporter copies only its SQLite file.
        if (!store.IsPostgres)
        {
            Step("backup", () => Backup());
        }

        try
        {
            await PruneLedgerUnderLockAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception ex) when (ex is StoreException or System.Data.Common.DbException or IOException)
        {
            // Retention is housekeeping: a failure is reported and retried tomorrow.
            MaintenanceLog.StepFailed(logger, "ledger retention", ex.Message);
        }

        Step("verify", () => Verify(full: false));
    }

    /// <summary>Writes a backup into BACKUP_DIR and applies BACKUP_RETENTION_DAYS; returns the new file.</summary>
    public BackupFile Backup()
    {
        try
        {
            var file = StoreBackup.Create(store, settings.BackupDirectory);
            MaintenanceLog.BackedUp(logger, file.Path, file.Bytes, file.SchemaVersion);
            status.BackedUp(file.TakenAt, file.Path);
            foreach (var old in StoreBackup.Prune(settings.BackupDirectory, settings.BackupRetentionDays, time.GetUtcNow()))
            {
                MaintenanceLog.BackupPruned(logger, old, settings.BackupRetentionDays);
            }

            return file;
        }
        catch (StoreException ex)
        {
            MaintenanceLog.BackupFailed(logger, ex.Message);
            status.BackupFailed(ex.Message);
            throw;
        }
    }

    /// <summary>Runs verify, logs each finding and records the result for /health.</summary>
    public VerifyReport Verify(bool full)
    {
        var report = StoreVerifier.Verify(store, full);
        var form = full ? "full" : "quick";
        foreach (var violation in report.Violations)
        {
            MaintenanceLog.VerifyViolation(logger, form, violation);
        }

        foreach (var note in report.Notes)
        {
            MaintenanceLog.VerifyNote(logger, note);
        }

        if (report.Ok)
        {
            MaintenanceLog.VerifyPassed(logger, form, report.Events, report.DeliveredKeys, report.SpoolRows);
        }

        status.Verified(time.GetUtcNow(), report.Violations);
        return report;
    }

    /// <summary>
    /// Deletes the ledger events of days older than LEDGER_RETENTION_DAYS whose extraction was
    /// complete and whose every key was acknowledged by API_Meter with exactly the ledger's current
    /// total; days with anything pending or dead in the spool are kept. Call under the cycle lock.
    /// Returns the events deleted per day.
    /// </summary>
    public async Task<IReadOnlyDictionary<DateOnly, long>> PruneLedgerAsync(CancellationToken cancellationToken)
    {
        if (settings.LedgerRetentionDays == 0)
        {
            return new Dictionary<DateOnly, long>();
        }

        var cutoff = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime).AddDays(-settings.LedgerRetentionDays);
        var last = cutoff.AddDays(-1);
        var totals = await DailyAggregator.AggregateAsync(store.ReadEventsAsync(DateOnly.MinValue, last, cancellationToken), null, cancellationToken).ConfigureAwait(false);
        if (totals.Count == 0)
        {
            return new Dictionary<DateOnly, long>();
        }

        var first = totals.Min(t => t.Key.UsageDate);
        var delivered = await store.ReadDeliveredHashesAsync(DeliveryService.ApiMeterTarget, first, last, cancellationToken).ConfigureAwait(false);
        var extractions = await store.ReadDayExtractionsAsync(first, last, cancellationToken).ConfigureAwait(false);
        var candidates = new List<DateOnly>();
        var kept = 0;
        foreach (var day in totals.GroupBy(t => t.Key.UsageDate))
        {
            var allDelivered = extractions.TryGetValue(day.Key, out var extraction) && extraction.Complete
                && day.All(t => delivered.TryGetValue(t.Key.ToString(), out var hash) && hash == ApiMeterPayload.ContentHash(ApiMeterPayload.RecordJson(t)));
            if (allDelivered)
            {
                candidates.Add(day.Key);
            }
            else
            {
                kept++;
            }
        }

        var pruned = await store.PruneLedgerDaysAsync(candidates, cancellationToken).ConfigureAwait(false);
        kept += candidates.Count - pruned.Count;
        MaintenanceLog.LedgerPruned(logger, pruned.Values.Sum(), pruned.Count, Iso.Day(cutoff), kept);
        return pruned;
    }

    private async Task PruneLedgerUnderLockAsync(CancellationToken cancellationToken)
    {
        if (settings.LedgerRetentionDays == 0)
        {
            return;
        }

        var waited = TimeSpan.Zero;
        var step = TimeSpan.FromSeconds(30);
        CycleLock? held;
        while ((held = CycleLock.TryAcquire(store)) is null)
        {
            if (waited >= LockWait)
            {
                MaintenanceLog.RetentionSkipped(logger, waited.TotalMinutes);
                return;
            }

            await Task.Delay(step, time, cancellationToken).ConfigureAwait(false);
            waited += step;
        }

        using (held)
        {
            await PruneLedgerAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void Step(string name, Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is StoreException or System.Data.Common.DbException or IOException or UnauthorizedAccessException)
        {
            // Logged (and, for backup and verify, reported by /health); the schedule goes on.
            MaintenanceLog.StepFailed(logger, name, ex.Message);
            if (name == "verify")
            {
                status.Verified(time.GetUtcNow(), [$"verify could not run: {ex.Message}"]);
            }
        }
    }
}
