namespace DifyUsageExporter.Sync;

/// <summary>Log events of backups, verify, ledger retention and cost alerts (event ids 4400-4499).</summary>
internal static partial class MaintenanceLog
{
    [LoggerMessage(4400, LogLevel.Information, "Backup written: {File} ({Bytes} bytes, schema version {SchemaVersion})")]
    public static partial void BackedUp(ILogger logger, string file, long bytes, int schemaVersion);

    [LoggerMessage(4401, LogLevel.Error, "Daily backup failed: {Problem}")]
    public static partial void BackupFailed(ILogger logger, string problem);

    [LoggerMessage(4402, LogLevel.Information, "Backup retention removed {File} (older than {RetentionDays} days)")]
    public static partial void BackupPruned(ILogger logger, string file, int retentionDays);

    [LoggerMessage(4403, LogLevel.Information, "Verify ({Form}) passed: {Events} ledger events, {DeliveredKeys} delivered keys, {SpoolRows} spool rows")]
    public static partial void VerifyPassed(ILogger logger, string form, long events, int deliveredKeys, int spoolRows);

    [LoggerMessage(4404, LogLevel.Error, "Verify ({Form}) found a problem in the state store: {Violation}")]
    public static partial void VerifyViolation(ILogger logger, string form, string violation);

    [LoggerMessage(4405, LogLevel.Information, "Verify note: {Note}")]
    public static partial void VerifyNote(ILogger logger, string note);

    [LoggerMessage(4406, LogLevel.Information, "Ledger retention: deleted {Events} events of {Days} days before {Cutoff}; {Kept} older days kept because not every key is delivered")]
    public static partial void LedgerPruned(ILogger logger, long events, int days, string cutoff, int kept);

    [LoggerMessage(4407, LogLevel.Warning, "Ledger retention skipped today: an export cycle held the lock for {Minutes} minutes")]
    public static partial void RetentionSkipped(ILogger logger, double minutes);

    [LoggerMessage(4408, LogLevel.Information, "Next maintenance (backup, retention, verify) at {NextRunUtc}, schedule '{Schedule}'")]
    public static partial void NextMaintenance(ILogger logger, string nextRunUtc, string schedule);

    [LoggerMessage(4409, LogLevel.Error, "Maintenance step {Step} failed: {Problem}")]
    public static partial void StepFailed(ILogger logger, string step, string problem);

    [LoggerMessage(4410, LogLevel.Debug, "Usage day {Day} is not exported: ledger retention removed its events after every total was delivered")]
    public static partial void PrunedDaySkipped(ILogger logger, string day);
}
