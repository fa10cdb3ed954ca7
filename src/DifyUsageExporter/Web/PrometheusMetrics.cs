using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Telemetry;

namespace DifyUsageExporter.Web;

/// <summary>
/// Collects every instrument of the "DifyUsageExporter" meter with a <see cref="MeterListener"/>
/// and renders them, plus the cycle gauges of <see cref="CycleStatus"/>, in the Prometheus text
/// exposition format for GET /metrics.
/// </summary>
public sealed class PrometheusMetrics : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly ConcurrentDictionary<(string Name, string Labels), double> values = new();
    private readonly ConcurrentDictionary<string, string> types = new(StringComparer.Ordinal);

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

    public string Render(CycleStatus status, TimeProvider time)
    {
        listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var group in values.OrderBy(v => v.Key.Name, StringComparer.Ordinal).ThenBy(v => v.Key.Labels, StringComparer.Ordinal).GroupBy(v => v.Key.Name))
        {
            text.Append(CultureInfo.InvariantCulture, $"# TYPE {group.Key} {types.GetValueOrDefault(group.Key, "gauge")}\n");
            foreach (var entry in group)
            {
                text.Append(CultureInfo.InvariantCulture, $"{entry.Key.Name}{entry.Key.Labels} {Number(entry.Value)}\n");
            }
        }

        Gauge(text, "dify_exporter_uptime_seconds", (time.GetUtcNow() - status.StartedAt).TotalSeconds);
        Gauge(text, "dify_exporter_cycle_running", status.Running ? 1 : 0);
        Gauge(text, "dify_exporter_last_cycle_start_timestamp_seconds", status.LastStart?.ToUnixTimeMilliseconds() / 1000.0);
        Gauge(text, "dify_exporter_last_cycle_end_timestamp_seconds", status.LastEnd?.ToUnixTimeMilliseconds() / 1000.0);
        Gauge(text, "dify_exporter_last_success_timestamp_seconds", status.LastSuccess?.ToUnixTimeMilliseconds() / 1000.0);
        Gauge(text, "dify_exporter_next_run_timestamp_seconds", status.NextRun?.ToUnixTimeMilliseconds() / 1000.0);
        return text.ToString();
    }

    public void Dispose() => listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = Labels(tags);
        switch (instrument)
        {
            case Histogram<double> or Histogram<long> or Histogram<int>:
                types.TryAdd(instrument.Name, "summary");
                values.AddOrUpdate((instrument.Name + "_sum", labels), value, (_, old) => old + value);
                values.AddOrUpdate((instrument.Name + "_count", labels), 1, (_, old) => old + 1);
                types.TryAdd(instrument.Name + "_sum", "untyped");
                types.TryAdd(instrument.Name + "_count", "untyped");
                break;
            case ObservableGauge<long> or ObservableGauge<double> or ObservableGauge<int> or ObservableCounter<long> or ObservableCounter<double> or ObservableUpDownCounter<long>:
                types.TryAdd(instrument.Name, instrument is ObservableCounter<long> or ObservableCounter<double> ? "counter" : "gauge");
                values[(instrument.Name, labels)] = value;
                break;
            default:
                types.TryAdd(instrument.Name, instrument.GetType().Name.StartsWith("Counter", StringComparison.Ordinal) ? "counter" : "gauge");
                values.AddOrUpdate((instrument.Name, labels), value, (_, old) => old + value);
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

    private static void Gauge(StringBuilder text, string name, double? value)
    {
        if (value is { } v)
        {
            text.Append(CultureInfo.InvariantCulture, $"# TYPE {name} gauge\n{name} {Number(v)}\n");
        }
    }

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
