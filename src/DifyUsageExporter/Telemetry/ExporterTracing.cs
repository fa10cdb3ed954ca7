using System.Diagnostics;

namespace DifyUsageExporter.Telemetry;

/// <summary>
/// The exporter's trace spans: one per export cycle, with a child per Dify app extracted and per
/// batch delivered. Free when nothing listens (no OTLP endpoint): StartActivity returns null.
/// </summary>
public static class ExporterTracing
{
    public const string SourceName = "DifyUsageExporter";

    public const string CycleSpan = "export cycle";
    public const string AppSpan = "extract app";
    public const string DeliverySpan = "deliver batch";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Marks a span failed with a short reason (already masked by the caller's message rules).</summary>
    public static void Fail(Activity? activity, string reason) => activity?.SetStatus(ActivityStatusCode.Error, reason);
}
