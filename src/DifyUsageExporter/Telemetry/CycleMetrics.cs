using System.Diagnostics.Metrics;

namespace DifyUsageExporter.Telemetry;

/// <summary>Instruments of the scheduler and cycle executor, on the shared "DifyUsageExporter" meter.</summary>
public static class CycleMetrics
{
    public const string MeterName = "DifyUsageExporter";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Cycles = Meter.CreateCounter<long>("dify_exporter_cycles_total", description: "Export cycles by outcome.");

    public static readonly Histogram<double> CycleDuration = Meter.CreateHistogram<double>("dify_exporter_cycle_duration_seconds", "s", "Duration of export cycles.");

    public static readonly Counter<long> SkippedTicks = Meter.CreateCounter<long>("dify_exporter_skipped_ticks_total", description: "Scheduled ticks skipped because a cycle was still running.");

    public static readonly Counter<long> LockRefusals = Meter.CreateCounter<long>("dify_exporter_lock_refusals_total", description: "Cycles refused because another process held the cycle lock.");
}
