using System.Diagnostics.Metrics;

namespace DifyUsageExporter.Metering;

/// <summary>Delivery instruments (exported by GET /metrics and OTLP).</summary>
internal static class DeliveryMetrics
{
    private static readonly Meter Meter = new("DifyUsageExporter");

    public static readonly Counter<long> RecordsDelivered = Meter.CreateCounter<long>("dify_exporter_records_delivered_total", description: "Records acknowledged by a delivery target (2xx).");
    public static readonly Counter<long> BatchesFailed = Meter.CreateCounter<long>("dify_exporter_batches_failed_total", description: "Batch sends that failed after retries (they stay in the spool).");
    public static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("dify_exporter_dead_letters_total", description: "Batches that became dead letters.");
    public static readonly Counter<long> Notifications = Meter.CreateCounter<long>("dify_exporter_notifications_total", description: "Webhook notifications sent.");
}
