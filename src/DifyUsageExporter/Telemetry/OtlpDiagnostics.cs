using System.Diagnostics.Tracing;
using System.Globalization;

namespace DifyUsageExporter.Telemetry;

/// <summary>
/// Turns the OTLP exporter's own error events (an unreachable or refusing collector, a rejected
/// request) into one warning in the exporter's log, at most every 10 minutes, so an operator sees
/// why telemetry is missing while the export itself goes on untouched.
/// </summary>
internal sealed class OtlpDiagnostics : EventListener
{
    private const string SourcePrefix = "OpenTelemetry-Exporter-OpenTelemetryProtocol";
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    private readonly ILogger? logger;
    private readonly TimeProvider? time;
    private readonly string endpoint = string.Empty;
    private readonly Lock gate = new();
    private DateTimeOffset? lastWarning;
    private int suppressed;

    public OtlpDiagnostics(ILogger logger, TimeProvider time, Uri endpoint)
    {
        this.logger = logger;
        this.time = time;
        this.endpoint = OtlpTelemetry.Redact(endpoint);
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name.StartsWith(SourcePrefix, StringComparison.Ordinal))
        {
            EnableEvents(eventSource, EventLevel.Error);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        // Events may arrive before the constructor has run (sources created earlier).
        if (logger is null || time is null || eventData.Level > EventLevel.Error)
        {
            return;
        }

        var now = time.GetUtcNow();
        int skipped;
        lock (gate)
        {
            if (lastWarning is { } last && now - last < Interval)
            {
                suppressed++;
                return;
            }

            lastWarning = now;
            skipped = suppressed;
            suppressed = 0;
        }

        var message = eventData.Message is { } format && eventData.Payload is { } payload
            ? string.Format(CultureInfo.InvariantCulture, format, [.. payload])
            : eventData.EventName ?? "unknown error";
        OtlpLog.ExportFailed(logger, endpoint, message, skipped);
    }
}
