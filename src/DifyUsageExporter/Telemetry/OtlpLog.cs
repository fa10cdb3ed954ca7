namespace DifyUsageExporter.Telemetry;

/// <summary>Log events of the OTLP export (event ids 1710-1719).</summary>
internal static partial class OtlpLog
{
    [LoggerMessage(1710, LogLevel.Information, "OpenTelemetry: exporting metrics and cycle traces to {Endpoint} over {Protocol} as service {ServiceName}")]
    public static partial void Started(ILogger logger, string endpoint, string protocol, string serviceName);

    [LoggerMessage(1711, LogLevel.Warning, "OpenTelemetry: export to {Endpoint} failed ({Reason}); metrics and traces are lost until the collector answers, the usage export is not affected ({Suppressed} similar failures since the last warning)")]
    public static partial void ExportFailed(ILogger logger, string endpoint, string reason, int suppressed);
}
