namespace DifyUsageExporter.Hosting;

/// <summary>Log events of the daemon's start and stop (event ids 1100-1199).</summary>
internal static partial class HostingLog
{
    [LoggerMessage(1100, LogLevel.Information, "dify-usage-exporter {Version} starting ({Mode})")]
    public static partial void Starting(ILogger logger, string version, string mode);

    // The dump goes to context.configuration as an object, not into the one-line message.
#pragma warning disable SYSLIB1015
    [LoggerMessage(1101, LogLevel.Information, "Effective configuration (secrets masked)")]
    public static partial void Configuration(ILogger logger, IReadOnlyList<KeyValuePair<string, string>> configuration);
#pragma warning restore SYSLIB1015

    [LoggerMessage(1102, LogLevel.Warning, "{Warning}")]
    public static partial void ConfigurationWarning(ILogger logger, string warning);

    [LoggerMessage(1103, LogLevel.Debug, "{Note}")]
    public static partial void ConfigurationNote(ILogger logger, string note);

    [LoggerMessage(1104, LogLevel.Error, "Invalid configuration: {Problem}")]
    public static partial void ConfigurationProblem(ILogger logger, string problem);

    [LoggerMessage(1105, LogLevel.Error, "Configuration is invalid ({Count} problems); fix the variables above and start again (`dify-usage-exporter config --check` lists them)")]
    public static partial void ConfigurationInvalid(ILogger logger, int count);

    [LoggerMessage(1106, LogLevel.Error, "The state store cannot be used ({Cause}): {Problem}")]
    public static partial void StoreUnusable(ILogger logger, string cause, string problem);

    [LoggerMessage(1114, LogLevel.Warning, "{Warning}")]
    public static partial void StoreWarning(ILogger logger, string warning);

    [LoggerMessage(1107, LogLevel.Information, "Health server listening on {Address} (GET /health, GET /metrics)")]
    public static partial void HealthListening(ILogger logger, string address);

    [LoggerMessage(1108, LogLevel.Error, "The health server cannot listen on {Host}:{Port}; change HEALTHCHECK_HOST/HEALTHCHECK_PORT or set HEALTHCHECK_ENABLED=false")]
    public static partial void HealthBindFailed(ILogger logger, string host, int port, Exception exception);

    [LoggerMessage(1109, LogLevel.Information, "Shutdown signal received; stopping the scheduler")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(1110, LogLevel.Information, "Stopped (exit code {ExitCode})")]
    public static partial void Stopped(ILogger logger, int exitCode);

    [LoggerMessage(1111, LogLevel.Error, "Another export cycle is running (lock {LockFile} is held by another exporter process); this run was refused. Wait for that cycle to finish, then try again")]
    public static partial void OnceRefused(ILogger logger, string lockFile);

    [LoggerMessage(1112, LogLevel.Warning, "DIFY_TLS_INSECURE=true: certificate checks for Dify are OFF; prefer DIFY_CA_CERT_FILE")]
    public static partial void TlsInsecure(ILogger logger);

    [LoggerMessage(1113, LogLevel.Error, "The exporter failed unexpectedly ({ExceptionType}: {Problem}) and stops with exit code 1")]
    public static partial void Fatal(ILogger logger, string exceptionType, string problem, Exception exception);
}
