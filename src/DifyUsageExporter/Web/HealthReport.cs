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
}
