using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Telemetry;

namespace DifyUsageExporter.Web;

/// <summary>
/// Collects every instrument of the "DifyUsageExporter" meter with a <see cref="MeterListener"/>
/// and renders them, the cycle gauges of <see cref="CycleStatus"/> and the gauges read from the
/// state store (spool, last success: so a restarted daemon reports what it inherited) in the
/// Prometheus text exposition format 0.0.4 for GET /metrics, each family with its HELP and TYPE.
/// </summary>
public sealed class PrometheusMetrics : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly ConcurrentDictionary<(string Family, string Sample, string Labels), double> values = new();
    private readonly ConcurrentDictionary<string, (string Type, string Help)> families = new(StringComparer.Ordinal);

    public PrometheusMetrics()
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == CycleMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<decimal>((i, v, tags, _) => Record(i, (double)v, tags));
        listener.Start();
    }

    /// <summary>Renders the whole exposition; <paramref name="store"/> is read for the spool and last-success gauges.</summary>
    public string Render(CycleStatus status, StateStore store, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(store);
        listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var family in values.GroupBy(v => v.Key.Family).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var (type, help) = families.GetValueOrDefault(family.Key, ("untyped", family.Key));
            Header(text, family.Key, type, help);
            foreach (var entry in family.OrderBy(v => v.Key.Sample, StringComparer.Ordinal).ThenBy(v => v.Key.Labels, StringComparer.Ordinal))
            {
                text.Append(CultureInfo.InvariantCulture, $"{entry.Key.Sample}{entry.Key.Labels} {Number(entry.Value)}\n");
            }
        }

        var now = time.GetUtcNow();
        Gauge(text, "dify_exporter_uptime_seconds", "Seconds since this daemon process started.", (now - status.StartedAt).TotalSeconds);
        Gauge(text, "dify_exporter_cycle_running", "1 while an export cycle runs in this process.", status.Running ? 1 : 0);
        Gauge(text, "dify_exporter_last_cycle_start_timestamp_seconds", "Unix time the last cycle started.", Seconds(status.LastStart));
        Gauge(text, "dify_exporter_last_cycle_end_timestamp_seconds", "Unix time the last cycle ended.", Seconds(status.LastEnd));
        Gauge(text, "dify_exporter_next_run_timestamp_seconds", "Unix time of the next scheduled cycle.", Seconds(status.NextRun));
        StoreGauges(text, store, now);
        return text.ToString();
    }

    public void Dispose() => listener.Dispose();

    private static void StoreGauges(StringBuilder text, StateStore store, DateTimeOffset now)
    {
        SpoolSummary spool;
        DateTimeOffset? lastSuccess;
        try
        {
            spool = store.ReadSpoolSummary();
            lastSuccess = store.ReadLastCaughtUpCycle()?.FinishedAt;
        }
        catch (System.Data.Common.DbException)
        {
            // /health says why; here the store is just down, and its gauges are absent.
            Gauge(text, "dify_usage_exporter_store_up", "1 when the state store answers, 0 when it is unusable.", 0);
            return;
        }

        Gauge(text, "dify_usage_exporter_store_up", "1 when the state store answers, 0 when it is unusable.", 1);
        Gauge(text, "dify_usage_exporter_spool_pending_records", "Records waiting in the spool for delivery (from the state store).", spool.Pending);
        Gauge(text, "dify_usage_exporter_spool_dead_letters", "Spool records that became dead letters and wait for an operator (from the state store).", spool.Dead);
        Gauge(text, "dify_usage_exporter_spool_oldest_pending_age_seconds", "Age of the oldest pending spool record in seconds; 0 when none is pending.", spool.OldestPendingSince is { } since ? Math.Max(0, (now - since).TotalSeconds) : 0);
        Gauge(text, "dify_usage_exporter_last_success_timestamp_seconds", "Unix time the last successful cycle (extraction complete, nothing pending) finished, by any process; 0 before the first.", Seconds(lastSuccess) ?? 0);
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = Labels(tags);
        var help = string.IsNullOrWhiteSpace(instrument.Description) ? instrument.Name : instrument.Description;
        switch (instrument)
        {
            case Histogram<double> or Histogram<long> or Histogram<int>:
                families.TryAdd(instrument.Name, ("summary", help));
                values.AddOrUpdate((instrument.Name, instrument.Name + "_sum", labels), value, (_, old) => old + value);
                values.AddOrUpdate((instrument.Name, instrument.Name + "_count", labels), 1, (_, old) => old + 1);
                break;
            case ObservableGauge<long> or ObservableGauge<double> or ObservableGauge<int> or ObservableCounter<long> or ObservableCounter<double> or ObservableUpDownCounter<long>:
                families.TryAdd(instrument.Name, (instrument is ObservableCounter<long> or ObservableCounter<double> ? "counter" : "gauge", help));
                values[(instrument.Name, instrument.Name, labels)] = value;
                break;
            default:
                families.TryAdd(instrument.Name, (instrument.GetType().Name.StartsWith("Counter", StringComparison.Ordinal) ? "counter" : "gauge", help));
                values.AddOrUpdate((instrument.Name, instrument.Name, labels), value, (_, old) => old + value);
                break;
        }
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return string.Empty;
        }

        var parts = new List<string>(tags.Length);
        foreach (var (key, value) in tags)
        {
            var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
            parts.Add($"{key}=\"{text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\"");
        }

        parts.Sort(StringComparer.Ordinal);
        return "{" + string.Join(',', parts) + "}";
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\n# TYPE {name} {type}\n");

    private static void Gauge(StringBuilder text, string name, string help, double? value)
    {
        if (value is { } v)
        {
            Header(text, name, "gauge", help);
            text.Append(CultureInfo.InvariantCulture, $"{name} {Number(v)}\n");
        }
    }

    private static double? Seconds(DateTimeOffset? instant) => instant?.ToUnixTimeMilliseconds() / 1000.0;

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
