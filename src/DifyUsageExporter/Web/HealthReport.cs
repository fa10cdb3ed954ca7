using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Web;

/// <summary>The last cycle as shown by /health.</summary>
public sealed record LastCycle(DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Outcome, bool Running);

/// <summary>The body of GET /health.</summary>
public sealed record HealthReport(
    string Status,
    double UptimeSeconds,
    DateTimeOffset StartedAt,
    LastCycle LastCycle,
    DateTimeOffset? LastSuccessAt,
    DateTimeOffset? NextRunAt,
    string Store,
    string? Problem)
{
    /// <summary>The latest reconcile with Dify's statistics (kept in the store, so a restart keeps it), or null.</summary>
    public System.Text.Json.JsonElement? Reconcile { get; init; }

    /// <summary>Apps the latest extraction skipped because this exporter does not know their mode (not counted).</summary>
    public IReadOnlyList<string> UnknownModeApps { get; init; } = [];

    public const string Healthy = "healthy";
    public const string Unhealthy = "unhealthy";

    /// <summary>Healthy when the store answers; unhealthy (503) when its file is gone or a query fails.</summary>
    public static HealthReport Build(CycleStatus status, SqliteStore store, TimeProvider time)
    {
        var storeOk = StoreProbe(store, out var problem);
        return new HealthReport(
            storeOk ? Healthy : Unhealthy,
            Math.Round((time.GetUtcNow() - status.StartedAt).TotalSeconds, 3),
            status.StartedAt,
            new LastCycle(status.LastStart, status.LastEnd, status.LastOutcome, status.Running),
            status.LastSuccess,
            status.NextRun,
            storeOk ? "ok" : "unusable",
            problem);
    }

    private static bool StoreProbe(SqliteStore store, out string? problem)
    {
        if (!File.Exists(store.Path))
        {
            problem = $"The state store file {store.Path} is missing (was DATA_DIR removed or unmounted?).";
            return false;
        }

        return store.IsHealthy(out problem);
    }

    /// <summary>Adds what the store keeps of the latest reconcile and extraction (nothing when the store is unusable).</summary>
    public static async Task<HealthReport> WithStateAsync(HealthReport report, SqliteStore store, CancellationToken cancellationToken)
    {
        if (report.Status != Healthy)
        {
            return report;
        }

        try
        {
            var reconcile = await store.ReadReconcileAsync(cancellationToken).ConfigureAwait(false);
            var unknown = await store.ReadUnknownModeAppsAsync(cancellationToken).ConfigureAwait(false);
            return report with
            {
                Reconcile = reconcile is null ? null : System.Text.Json.JsonDocument.Parse(reconcile).RootElement.Clone(),
                UnknownModeApps = unknown,
            };
        }
        catch (Exception ex) when (ex is StoreException or Microsoft.Data.Sqlite.SqliteException or System.Text.Json.JsonException)
        {
            // The store answered the probe but not this read: report what is known rather than fail /health.
            return report;
        }
    }

    /// <summary>Sets the reconcile and unknown-mode gauges from the store at start, so /metrics survives a restart.</summary>
    public static async Task LoadGaugesAsync(SqliteStore store, CancellationToken cancellationToken)
    {
        var unknown = await store.ReadUnknownModeAppsAsync(cancellationToken).ConfigureAwait(false);
        Telemetry.ReconcileMetrics.SetUnknownModeApps(unknown.Count);
        if (await store.ReadReconcileAsync(cancellationToken).ConfigureAwait(false) is { } json)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            if (doc.RootElement.TryGetProperty("unexplained_tokens", out var tokens) && tokens.TryGetInt64(out var value))
            {
                Telemetry.ReconcileMetrics.SetUnexplainedTokens(value);
            }
        }
    }
}
