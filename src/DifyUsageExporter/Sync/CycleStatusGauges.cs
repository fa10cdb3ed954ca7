using System.Diagnostics.Metrics;
using DifyUsageExporter.Telemetry;

namespace DifyUsageExporter.Sync;

/// <summary>The cycle gauges of GET /metrics, under the same names, for OTLP (Telemetry/OtlpTelemetry.cs exports the meter).</summary>
public static class CycleStatusGauges
{
    public static Meter Create(CycleStatus status, TimeProvider time)
    {
        var meter = new Meter(CycleMetrics.MeterName + ".Status");
        static IEnumerable<Measurement<double>> At(DateTimeOffset? at) =>
            at is { } v ? [new Measurement<double>(v.ToUnixTimeMilliseconds() / 1000.0)] : [];
        meter.CreateObservableGauge("dify_exporter_uptime_seconds", () => (time.GetUtcNow() - status.StartedAt).TotalSeconds, "s", "Seconds since the exporter started.");
        meter.CreateObservableGauge("dify_exporter_cycle_running", () => status.Running ? 1 : 0, description: "1 while an export cycle runs.");
        meter.CreateObservableGauge("dify_exporter_last_cycle_start_timestamp_seconds", () => At(status.LastStart), "s", "Start of the last cycle (Unix time).");
        meter.CreateObservableGauge("dify_exporter_last_cycle_end_timestamp_seconds", () => At(status.LastEnd), "s", "End of the last cycle (Unix time).");
        meter.CreateObservableGauge("dify_exporter_last_success_timestamp_seconds", () => At(status.LastSuccess), "s", "End of the last successful cycle (Unix time).");
        meter.CreateObservableGauge("dify_exporter_next_run_timestamp_seconds", () => At(status.NextRun), "s", "Next scheduled cycle (Unix time).");
        return meter;
    }
}
