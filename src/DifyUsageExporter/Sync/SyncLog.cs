namespace DifyUsageExporter.Sync;

/// <summary>Source-generated log methods of the export cycle (event ids 4100-4199).</summary>
internal static partial class SyncLog
{
    [LoggerMessage(4100, LogLevel.Information, "Cycle {RunId} ({Trigger}) exports {From}..{To} in time zone {TimeZone}")]
    public static partial void Window(ILogger logger, string runId, string trigger, string from, string to, string timeZone);

    [LoggerMessage(4101, LogLevel.Warning, "Usage days not delivered because their extraction was incomplete (retried next cycle): {Days}; apps: {Apps}")]
    public static partial void IncompleteDays(ILogger logger, string days, string apps);

    [LoggerMessage(4102, LogLevel.Information, "{Changed} of {Keys} keys changed since their last delivery ({Force})")]
    public static partial void Changed(ILogger logger, int changed, int keys, string force);

    [LoggerMessage(4103, LogLevel.Information, "Cycle {RunId} finished: {Outcome}: {Summary}")]
    public static partial void Finished(ILogger logger, string runId, string outcome, string summary);

    [LoggerMessage(4104, LogLevel.Error, "Cycle {RunId} failed: {Problem}")]
    public static partial void Failed(ILogger logger, string runId, string problem);

    [LoggerMessage(4105, LogLevel.Warning, "Key {Key} mixes currencies {Currencies}; the total is labelled {Currency}")]
    public static partial void MixedCurrency(ILogger logger, string key, string currencies, string currency);
}
