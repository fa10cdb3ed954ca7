namespace DifyUsageExporter.Metering;

/// <summary>Source-generated log methods of delivery (event ids 4000-4099).</summary>
internal static partial class MeteringLog
{
    [LoggerMessage(4000, LogLevel.Warning, "POST to {Target} failed (attempt {Attempt}): {Problem}; retrying in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string target, int attempt, string problem, long delayMs);

    [LoggerMessage(4001, LogLevel.Error, "{Target} rejected the request with HTTP {Status}: {Body}. Hint: {Hint}")]
    public static partial void Rejected(ILogger logger, string target, int status, string body, string hint);

    [LoggerMessage(4002, LogLevel.Error, "{Target} could not be reached after {Attempts} attempts: {Problem}")]
    public static partial void Unreachable(ILogger logger, string target, int attempts, string problem);

    [LoggerMessage(4003, LogLevel.Information, "Sent {Records} records to {Target} in batch {BatchId}: HTTP {Status}, inserted={Inserted}, updated={Updated}, total={Total}")]
    public static partial void Delivered(ILogger logger, int records, string target, string batchId, int status, string inserted, string updated, string total);

    [LoggerMessage(4004, LogLevel.Error, "Batch {BatchId} for {Target} became a dead letter after {FailedCycles} failed cycles ({Records} records): {LastError}")]
    public static partial void DeadLettered(ILogger logger, string batchId, string target, int failedCycles, int records, string lastError);

    [LoggerMessage(4005, LogLevel.Information, "Delivery summary: {Batches} batches, {Records} records sent; API_Meter inserted={Inserted}, updated={Updated}, total={Total}; {Failed} batches failed")]
    public static partial void Summary(ILogger logger, int batches, int records, long inserted, long updated, long total, int failed);

    [LoggerMessage(4006, LogLevel.Warning, "Notification webhook failed: {Problem}")]
    public static partial void NotifyFailed(ILogger logger, string problem);

    [LoggerMessage(4007, LogLevel.Information, "Notification {Kind} suppressed: the previous one was sent less than {MinInterval} ago")]
    public static partial void NotifySuppressed(ILogger logger, string kind, TimeSpan minInterval);

    [LoggerMessage(4008, LogLevel.Warning, "{Records} pending records for {Target} wait in the spool: the target URL is not configured")]
    public static partial void TargetNotConfigured(ILogger logger, int records, string target);

    [LoggerMessage(4450, LogLevel.Warning, "Cost alert sent for {Day}: {Metric} total {Total} reached {Threshold}")]
    public static partial void AlertSent(ILogger logger, string day, string metric, string total, string threshold);

    [LoggerMessage(4451, LogLevel.Warning, "Cost alert for {Day} ({Metric}) could not be sent; the next cycle tries again")]
    public static partial void AlertNotSent(ILogger logger, string day, string metric);
}
