
namespace DifyUsageExporter.Dify;

/// <summary>Log events of the Dify client and extractor (ids 3000-3099). Never a secret in a field.</summary>
internal static partial class DifyLog
{
    [LoggerMessage(3000, LogLevel.Warning, "DIFY_TLS_INSECURE=true: certificate checks are DISABLED for Dify requests. Anyone on the network path can read the Dify password and session. Use DIFY_CA_CERT_FILE instead.")]
    public static partial void TlsInsecure(ILogger logger);

    [LoggerMessage(3001, LogLevel.Information, "Dify version {Version} detected; password sent {Encoding}")]
    public static partial void VersionDetected(ILogger logger, string version, string encoding);

    [LoggerMessage(3002, LogLevel.Warning, "Dify sent no X-Version header; password sent {Encoding}. Set DIFY_PASSWORD_ENCODING if login fails with 'Invalid encrypted data'.")]
    public static partial void VersionUnknown(ILogger logger, string encoding);

    [LoggerMessage(3003, LogLevel.Information, "Logged in to Dify ({Era} session, cookies {CookieNames})")]
    public static partial void LoggedIn(ILogger logger, string era, string cookieNames);

    [LoggerMessage(3004, LogLevel.Information, "Dify session refreshed ({Reason})")]
    public static partial void Refreshed(ILogger logger, string reason);

    [LoggerMessage(3005, LogLevel.Warning, "Dify session refresh failed ({Status}); logging in again")]
    public static partial void RefreshFailed(ILogger logger, string status);

    [LoggerMessage(3006, LogLevel.Warning, "Dify request {Method} {Path} failed ({Outcome}); retry {Attempt} in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string method, string path, string outcome, int attempt, long delayMs);

    [LoggerMessage(3007, LogLevel.Information, "Switched Dify workspace to {WorkspaceId}")]
    public static partial void WorkspaceSwitched(ILogger logger, string workspaceId);

    [LoggerMessage(3010, LogLevel.Warning, "App {AppName} ({AppId}) has mode {Mode}, which the exporter does not know; skipped")]
    public static partial void UnknownMode(ILogger logger, string appName, string appId, string mode);

    [LoggerMessage(3011, LogLevel.Error, "Extraction of app {AppName} ({AppId}) failed: {Reason}")]
    public static partial void AppFailed(ILogger logger, string appName, string appId, string reason);

    [LoggerMessage(3012, LogLevel.Warning, "App {AppName} ({AppId}): {Item} {ItemId} could not be read: {Reason}")]
    public static partial void ItemFailed(ILogger logger, string appName, string appId, string item, string itemId, string reason);

    [LoggerMessage(3013, LogLevel.Information, "Extracted {From}..{To} ({Zone}): {Events} events from {Apps} apps, {Skipped} skipped, {Failures} failures")]
    public static partial void Extracted(ILogger logger, DateOnly from, DateOnly to, string zone, long events, int apps, int skipped, int failures);

    [LoggerMessage(3014, LogLevel.Warning, "Dify account time zone {Zone} is unknown to this system; usage days fall back to UTC")]
    public static partial void UnknownZone(ILogger logger, string zone);

    [LoggerMessage(3015, LogLevel.Warning, "App {AppName} ({AppId}): workflow run {RunId} reports {Tokens} tokens but no node usage; booked as provider/model unknown")]
    public static partial void RunWithoutNodeUsage(ILogger logger, string appName, string appId, string runId, long tokens);

    [LoggerMessage(3016, LogLevel.Debug, "App {AppName} ({AppId}): reading from {ReadFrom:o} (window start {WindowStart:o})")]
    public static partial void ReadFrom(ILogger logger, string appName, string appId, DateTimeOffset readFrom, DateTimeOffset windowStart);

    [LoggerMessage(3017, LogLevel.Warning, "App {AppName} ({AppId}): Dify recorded no usage for {Messages} agent messages on {Day:yyyy-MM-dd} (Dify before PR #38270 stored agent messages with 0 tokens); they are not counted")]
    public static partial void AgentZeroUsage(ILogger logger, string appName, string appId, DateOnly day, int messages);

    [LoggerMessage(3050, LogLevel.Debug, "Dify concurrency limit {Old} -> {New} ({Reason})")]
    public static partial void LimitChanged(ILogger logger, int old, int @new, string reason);

    [LoggerMessage(3018, LogLevel.Warning, "Reconcile: app {AppName} ({AppId}) on {Day:yyyy-MM-dd}: the ledger has {Ours} tokens, Dify's statistics {Dify} (difference {Difference}); no documented rule explains it")]
    public static partial void ReconcileUnexplained(ILogger logger, string appName, string appId, DateOnly day, long ours, long dify, long difference);

    [LoggerMessage(3022, LogLevel.Information, "App {AppName} ({AppId}, {AppMode}): {Events} usage events read, {Status}")]
    public static partial void AppExtracted(ILogger logger, string appName, string appId, string appMode, long events, string status);

    [LoggerMessage(3019, LogLevel.Warning, "Reconcile: app {AppName} ({AppId}): {Reason}")]
    public static partial void ReconcileError(ILogger logger, string appName, string appId, string reason);

    [LoggerMessage(3020, LogLevel.Information, "Reconciled {From}..{To} with Dify's statistics: {Rows} app-days, {Unexplained} unexplained ({UnexplainedTokens} tokens), {Errors} not readable")]
    public static partial void Reconciled(ILogger logger, DateOnly from, DateOnly to, int rows, int unexplained, long unexplainedTokens, int errors);

    [LoggerMessage(3021, LogLevel.Warning, "Reconcile after the cycle failed: {Reason}")]
    public static partial void ReconcileFailed(ILogger logger, string reason);

    [LoggerMessage(3023, LogLevel.Debug, "Reconcile not needed: no usage day changed in this cycle and the whole window was reconciled at {WholeAt}")]
    public static partial void ReconcileNotNeeded(ILogger logger, string wholeAt);
}
