namespace DifyUsageExporter.Configuration;

/// <summary>DASHBOARD_*: the opt-in usage dashboard and API on the health server (docs/operations.md).</summary>
public sealed record DashboardSettings
{
    public bool Enabled { get; init; }
    public string? User { get; init; }
    public string? Password { get; init; }
}

/// <summary>OTLP wire protocols the OpenTelemetry .NET exporter speaks.</summary>
public enum OtlpWireProtocol { HttpProtobuf, Grpc }

/// <summary>
/// The standard OTEL_* variables of the OpenTelemetry specification that the exporter reads itself
/// (from the environment or .env); <see cref="Endpoint"/> null = no OTLP export.
/// </summary>
public sealed record OtlpSettings
{
    public const string DefaultServiceName = "dify-usage-exporter";

    /// <summary>OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL (signal paths are appended for http/protobuf).</summary>
    public Uri? Endpoint { get; init; }
    public OtlpWireProtocol Protocol { get; init; } = OtlpWireProtocol.HttpProtobuf;
    /// <summary>OTEL_EXPORTER_OTLP_HEADERS, decoded. Values are secrets.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
    public string ServiceName { get; init; } = DefaultServiceName;
    /// <summary>OTEL_RESOURCE_ATTRIBUTES, decoded, without service.name (that is <see cref="ServiceName"/>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ResourceAttributes { get; init; } = [];
    public TimeSpan MetricExportInterval { get; init; } = TimeSpan.FromSeconds(60);
}
