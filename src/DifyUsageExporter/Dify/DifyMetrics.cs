using System.Diagnostics.Metrics;

namespace DifyUsageExporter.Dify;

/// <summary>Instruments of the Dify client and extractor.</summary>
internal static class DifyMetrics
{
    private static readonly Meter Meter = new("DifyUsageExporter");

    public static readonly Counter<long> Requests = Meter.CreateCounter<long>("dify_exporter_dify_requests_total", description: "Dify HTTP requests sent (attempts)");
    public static readonly Counter<long> Retries = Meter.CreateCounter<long>("dify_exporter_dify_retries_total", description: "Dify requests retried");
    public static readonly Counter<long> Logins = Meter.CreateCounter<long>("dify_exporter_dify_logins_total", description: "Dify logins");
    public static readonly Counter<long> Refreshes = Meter.CreateCounter<long>("dify_exporter_dify_refreshes_total", description: "Dify session refreshes");
    public static readonly Counter<long> SkippedApps = Meter.CreateCounter<long>("dify_exporter_apps_skipped_total", description: "Apps skipped because their mode is unknown");
    public static readonly Counter<long> Events = Meter.CreateCounter<long>("dify_exporter_extracted_events_total", description: "Usage events extracted and stored");
    public static readonly Counter<long> AppFailures = Meter.CreateCounter<long>("dify_exporter_app_extraction_failures_total", description: "Apps (or parts of apps) whose extraction failed");
}
