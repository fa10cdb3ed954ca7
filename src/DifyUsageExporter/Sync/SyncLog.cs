namespace DifyUsageExporter.Sync;

/// <summary>Log events of the scheduler and cycle executor (event ids 1000-1099) and of the export cycle (4100-4199).</summary>
internal static partial class SyncLog
{
    // {When} shows each zone once (UTC, then CRON_TIMEZONE unless that is UTC); the separate
    // instants stay in context for machines, outside the one-line message.
#pragma warning disable SYSLIB1015
    [LoggerMessage(1000, LogLevel.Information, "Next export cycle at {When}, schedule '{CronSchedule}'")]
    public static partial void NextRun(ILogger logger, string when, string nextRunUtc, string nextRunLocal, string timeZone, string cronSchedule);

    [LoggerMessage(1001, LogLevel.Warning, "Skipping the scheduled tick of {DueUtc}: the previous export cycle is still running")]
    public static partial void TickSkipped(ILogger logger, string dueUtc);

    [LoggerMessage(1002, LogLevel.Information, "Export cycle started")]
    public static partial void CycleStarted(ILogger logger);

    /// <summary>The one summary line of a cycle: info when it succeeded, warn when data waits in the spool, error when it failed.</summary>
    [LoggerMessage(EventId = 1003, Message = "Export cycle finished: {Outcome} in {DurationSeconds} s. {Summary}")]
    public static partial void CycleFinished(ILogger logger, LogLevel level, string outcome, double durationSeconds, string summary);

    /// <summary>The level of a summary line for an outcome (success, spooled, failed, cancelled).</summary>
    public static LogLevel SummaryLevel(string outcome) => outcome switch
    {
        "success" => LogLevel.Information,
        "spooled" => LogLevel.Warning,
        _ => LogLevel.Error,
    };

    [LoggerMessage(1004, LogLevel.Error, "Export cycle failed with an unexpected error")]
    public static partial void CycleCrashed(ILogger logger, Exception exception);

    [LoggerMessage(1005, LogLevel.Warning, "Export cycle ({Trigger}) refused: another process is running a cycle (lock {LockFile} is held)")]
    public static partial void LockHeld(ILogger logger, string trigger, string lockFile);

    [LoggerMessage(1006, LogLevel.Information, "Stopping: no new cycles will start; waiting up to {TimeoutSeconds} s for the running cycle to finish")]
    public static partial void WaitingForCycle(ILogger logger, double timeoutSeconds);

    [LoggerMessage(1007, LogLevel.Error, "The running cycle did not finish within GRACEFUL_SHUTDOWN_TIMEOUT ({TimeoutSeconds} s); cancelling it")]
    public static partial void ShutdownTimedOut(ILogger logger, double timeoutSeconds);

    [LoggerMessage(1008, LogLevel.Error, "Recording the cycle in the state store failed")]
    public static partial void RecordFailed(ILogger logger, Exception exception);

    [LoggerMessage(1009, LogLevel.Warning, "Export cycle cancelled by a stop signal; what was stored stays, the next cycle continues")]
    public static partial void CycleCancelled(ILogger logger);

    [LoggerMessage(1010, LogLevel.Warning, "{Count} cycle(s) left without an outcome by an earlier process (crash or kill) were closed as abandoned")]
    public static partial void AbandonedClosed(ILogger logger, int count);

    [LoggerMessage(1011, LogLevel.Information, "First export cycle: now, as a catch-up ({Reason}); then at {When}, schedule '{CronSchedule}'")]
    public static partial void CatchUpNow(ILogger logger, string reason, string when, string nextRunUtc, string nextRunLocal, string timeZone, string cronSchedule);

    [LoggerMessage(1012, LogLevel.Information, "Next export cycle at {When}, schedule '{CronSchedule}'; that is the first cycle: no catch-up at start ({Reason})")]
    public static partial void FirstRun(ILogger logger, string when, string nextRunUtc, string nextRunLocal, string timeZone, string cronSchedule, string reason);
#pragma warning restore SYSLIB1015

    [LoggerMessage(1013, LogLevel.Warning, "The clock moved back by {Seconds} s (from {FromUtc} to {ToUtc}); the next firing was recomputed")]
    public static partial void ClockMovedBack(ILogger logger, double seconds, string fromUtc, string toUtc);

    [LoggerMessage(1014, LogLevel.Warning, "The firing of {DueUtc} is {LateSeconds} s late (the host was suspended or the clock jumped forward); running it now, earlier missed firings are not replayed")]
    public static partial void FiringLate(ILogger logger, string dueUtc, double lateSeconds);

    [LoggerMessage(1015, LogLevel.Error, "The scheduler failed unexpectedly; the daemon stops (exit code 1) so the service manager can restart it")]
    public static partial void SchedulerCrashed(ILogger logger, Exception exception);

    [LoggerMessage(4100, LogLevel.Information, "Cycle {RunId} ({Trigger}) exports {From}..{To} in time zone {TimeZone}")]
    public static partial void Window(ILogger logger, string runId, string trigger, string from, string to, string timeZone);

    [LoggerMessage(4101, LogLevel.Warning, "Usage days not delivered because their extraction was incomplete (retried next cycle): {Days}; apps: {Apps}")]
    public static partial void IncompleteDays(ILogger logger, string days, string apps);

    [LoggerMessage(4102, LogLevel.Information, "{Changed} of {Keys} keys changed since their last delivery ({Force})")]
    public static partial void Changed(ILogger logger, int changed, int keys, string force);

    /// <summary>The one summary line of the `export` command (a cycle's is <see cref="CycleFinished"/>).</summary>
    [LoggerMessage(EventId = 4103, Message = "Export {RunId} finished: {Outcome}: {Summary}")]
    public static partial void Finished(ILogger logger, LogLevel level, string runId, string outcome, string summary);

    [LoggerMessage(4104, LogLevel.Error, "Cycle {RunId} failed: {Problem}")]
    public static partial void Failed(ILogger logger, string runId, string problem);

    [LoggerMessage(4105, LogLevel.Warning, "Key {Key} mixes currencies {Currencies}; the total is labelled {Currency}")]
    public static partial void MixedCurrency(ILogger logger, string key, string currencies, string currency);

    [LoggerMessage(4150, LogLevel.Information, "Re-aggregated {Days} changed usage day(s) from {Events} ledger events; the other days' totals were already up to date")]
    public static partial void Reaggregated(ILogger logger, int days, long events);
}
