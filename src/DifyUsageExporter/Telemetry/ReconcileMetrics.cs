using System.Diagnostics.Metrics;

namespace DifyUsageExporter.Telemetry;

/// <summary>
/// Gauges of the latest reconcile and extraction, read when /metrics renders. The values are set
/// after each reconcile / extraction and, at daemon start, from the state store (so a restart keeps them).
/// </summary>
public static class ReconcileMetrics
{
    private static readonly Meter Meter = new(CycleMetrics.MeterName);
    private static long unexplainedTokens;
    private static long unknownModeApps;
    private static long reconciled;

    private static readonly ObservableGauge<long> UnexplainedGauge = Meter.CreateObservableGauge(
        "dify_usage_exporter_reconcile_unexplained_tokens",
        ObserveUnexplained,
        description: "Tokens of the latest reconcile's differences with Dify's statistics that no documented rule explains.");

    private static readonly ObservableGauge<long> UnknownModeGauge = Meter.CreateObservableGauge(
        "dify_exporter_apps_unknown_mode",
        () => Interlocked.Read(ref unknownModeApps),
        description: "Apps the latest extraction skipped because their mode is unknown to this exporter (not counted).");

    /// <summary>Touches the gauges so they exist before the first render.</summary>
    public static bool Registered => UnexplainedGauge.Enabled || UnknownModeGauge.Enabled || true;

    public static void SetUnexplainedTokens(long tokens)
    {
        Interlocked.Exchange(ref unexplainedTokens, tokens);
        Interlocked.Exchange(ref reconciled, 1);
    }

    public static void SetUnknownModeApps(int apps) => Interlocked.Exchange(ref unknownModeApps, apps);

    private static IEnumerable<Measurement<long>> ObserveUnexplained()
    {
        // No sample before the first reconcile: "0 unexplained" would be a claim nothing checked.
        if (Interlocked.Read(ref reconciled) == 1)
        {
            yield return new Measurement<long>(Interlocked.Read(ref unexplainedTokens));
        }
    }
}
