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

    [LoggerMessage(4004, LogLevel.Error, "Batch {BatchId} for {Target} became a dead letter ({Records} records, {Reason}): {LastError}")]
    public static partial void DeadLettered(ILogger logger, string batchId, string target, int records, string reason, string lastError);

    [LoggerMessage(4005, LogLevel.Debug, "Delivery summary: {Batches} batches, {Records} records sent; API_Meter inserted={Inserted}, updated={Updated}, total={Total}; {Failed} batches failed")]
    public static partial void Summary(ILogger logger, int batches, int records, long inserted, long updated, long total, int failed);

    [LoggerMessage(4006, LogLevel.Warning, "Notification webhook failed: {Problem}")]
    public static partial void NotifyFailed(ILogger logger, string problem);

    [LoggerMessage(4013, LogLevel.Information, "Notification webhook failed (attempt {Attempt}): {Problem}; retrying in {DelayMs} ms")]
    public static partial void NotifyRetrying(ILogger logger, int attempt, string problem, long delayMs);

    [LoggerMessage(4007, LogLevel.Information, "Notification {Kind} suppressed: the previous one was sent less than {MinInterval} ago")]
    public static partial void NotifySuppressed(ILogger logger, string kind, TimeSpan minInterval);

    [LoggerMessage(4009, LogLevel.Warning, "{Target} answered HTTP {Status} but did not confirm the records ({Why}); they stay pending and are sent again next cycle. Body: {Body}")]
    public static partial void Unexplained(ILogger logger, string target, int status, string why, string body);

    [LoggerMessage(4010, LogLevel.Warning, "{Target} rejected {Records} records with HTTP {Status}; splitting the request to isolate the rejected records")]
    public static partial void Splitting(ILogger logger, string target, int records, int status);

    [LoggerMessage(4011, LogLevel.Warning, "{Count} dead letters wait in the spool (oldest: batch {OldestBatch}, spooled {OldestAt}); they are not sent again until their totals change or `spool resend`; see `spool list`")]
    public static partial void DeadLettersWaiting(ILogger logger, int count, string oldestBatch, string oldestAt);

    [LoggerMessage(4012, LogLevel.Warning, "{Records} dead letters made by an earlier version (which also dead-lettered outages) are pending again and will be sent; only records API_Meter rejects become dead letters now")]
    public static partial void DeadLettersRevived(ILogger logger, int records);

    [LoggerMessage(4008, LogLevel.Warning, "{Records} pending records for {Target} wait in the spool: the target URL is not configured")]
    public static partial void TargetNotConfigured(ILogger logger, int records, string target);

    [LoggerMessage(4450, LogLevel.Warning, "Cost alert sent for {Day}: {Metric} total {Total} reached {Threshold}")]
    public static partial void AlertSent(ILogger logger, string day, string metric, string total, string threshold);

    [LoggerMessage(4451, LogLevel.Warning, "Cost alert for {Day} ({Metric}) could not be sent; the next cycle tries again")]
    public static partial void AlertNotSent(ILogger logger, string day, string metric);
}
