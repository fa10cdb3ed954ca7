using System.Diagnostics.Metrics;
using DifyUsageExporter.Configuration;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DifyUsageExporter.Telemetry;

/// <summary>
/// OTLP export of the exporter's metrics and cycle traces with the OpenTelemetry .NET SDK, on when
/// OTEL_EXPORTER_OTLP_ENDPOINT is set. Metrics are the instruments of the "DifyUsageExporter"
/// meter (the names GET /metrics shows) plus the cycle-status gauges; export runs in the SDK's
/// background threads, so an unreachable collector costs a warning, never a cycle.
/// </summary>
public sealed class OtlpTelemetry : IDisposable
{
    /// <summary>Bounded so a dead collector cannot hold up shutdown or the end of `run --once`.</summary>
    private const int ShutdownTimeoutMilliseconds = 5000;

    private readonly TracerProvider tracer;
    private readonly MeterProvider meter;
    private readonly Meter statusMeter;
    private readonly OtlpDiagnostics diagnostics;

    private OtlpTelemetry(TracerProvider tracer, MeterProvider meter, Meter statusMeter, OtlpDiagnostics diagnostics)
    {
        this.tracer = tracer;
        this.meter = meter;
        this.statusMeter = statusMeter;
        this.diagnostics = diagnostics;
    }

    /// <summary>Starts the OTLP pipelines, or returns null when no endpoint is configured.</summary>
    public static OtlpTelemetry? Start(OtlpSettings settings, string version, Func<Meter> statusGauges, TimeProvider time, ILoggerFactory loggers)
    {
        if (settings.Endpoint is not { } endpoint)
        {
            return null;
        }

        var logger = loggers.CreateLogger<OtlpTelemetry>();
        var diagnostics = new OtlpDiagnostics(logger, time, endpoint);
        var resource = ResourceBuilder.CreateEmpty()
            .AddService(settings.ServiceName, serviceVersion: version, autoGenerateServiceInstanceId: true)
            .AddAttributes(settings.ResourceAttributes.Select(a => new KeyValuePair<string, object>(a.Key, a.Value)))
            .AddTelemetrySdk();
        var tracer = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(ExporterTracing.SourceName)
            .AddOtlpExporter(o => Configure(o, settings, "v1/traces"))
            .Build();
        var statusMeter = statusGauges();
        var meter = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(CycleMetrics.MeterName, statusMeter.Name)
            .AddOtlpExporter((o, reader) =>
            {
                Configure(o, settings, "v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)settings.MetricExportInterval.TotalMilliseconds;
            })
            .Build();
        OtlpLog.Started(logger, Redact(endpoint), settings.Protocol == OtlpWireProtocol.Grpc ? "grpc" : "http/protobuf", settings.ServiceName);
        return new OtlpTelemetry(tracer, meter, statusMeter, diagnostics);
    }

    public void Dispose()
    {
        tracer.Shutdown(ShutdownTimeoutMilliseconds);
        meter.Shutdown(ShutdownTimeoutMilliseconds);
        tracer.Dispose();
        meter.Dispose();
        statusMeter.Dispose();
        diagnostics.Dispose();
    }

    private static void Configure(OtlpExporterOptions options, OtlpSettings settings, string signalPath)
    {
        options.Protocol = settings.Protocol == OtlpWireProtocol.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        // The specification: with http/protobuf, OTEL_EXPORTER_OTLP_ENDPOINT is a base URL and each
        // signal's path is appended; an endpoint set in code is used as is, so append it here.
        var baseUrl = settings.Endpoint!.ToString().TrimEnd('/');
        options.Endpoint = settings.Protocol == OtlpWireProtocol.Grpc ? settings.Endpoint! : new Uri($"{baseUrl}/{signalPath}");
        // The SDK splits on ',' and '=' and URL-decodes values: hand it the values encoded again.
        options.Headers = settings.Headers.Count == 0 ? null : string.Join(",", settings.Headers.Select(h => $"{h.Key}={Uri.EscapeDataString(h.Value)}"));
    }

    /// <summary>The endpoint without user info, query or fragment (they could carry credentials).</summary>
    internal static string Redact(Uri endpoint) => endpoint.GetLeftPart(UriPartial.Path);
}
