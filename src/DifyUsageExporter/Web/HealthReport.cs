using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Web;

/// <summary>The last cycle as shown by /health.</summary>
public sealed record LastCycle(DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Outcome, bool Running);

/// <summary>The latest verify and backup of the daemon's maintenance, as shown by /health.</summary>
public sealed record StoreChecks(string Verify, DateTimeOffset? VerifiedAt, IReadOnlyList<string> Violations, DateTimeOffset? LastBackupAt, string? LastBackupFile, string? BackupError);

/// <summary>The body of GET /health.</summary>
public sealed record HealthReport(
    string Status,
    double UptimeSeconds,
    DateTimeOffset StartedAt,
    LastCycle LastCycle,
    DateTimeOffset? LastSuccessAt,
    DateTimeOffset? NextRunAt,
    string Store,
    string? Problem,
    StoreChecks Checks)
{
    public const string Healthy = "healthy";
    public const string Unhealthy = "unhealthy";

    /// <summary>
    /// Healthy when the store answers and its latest verify passed; unhealthy (503) when its file is
    /// gone, a query fails, or verify found a violation (named in <c>problem</c> and <c>checks</c>).
    /// </summary>
    public static HealthReport Build(CycleStatus status, SqliteStore store, TimeProvider time)
    {
        var storeOk = StoreProbe(store, out var problem);
        var m = status.Maintenance;
        var violations = m.Violations;
        var storeState = storeOk ? "ok" : "unusable";
        if (storeOk && violations.Count > 0)
        {
            storeOk = false;
            storeState = "inconsistent";
            problem = $"verify found {violations.Count} problem(s) in the state store (run `dify-usage-exporter verify`): {violations[0]}";
        }

        var checks = new StoreChecks(m.VerifiedAt is null ? "not run yet" : violations.Count == 0 ? "ok" : "failed", m.VerifiedAt, violations, m.LastBackupAt, m.LastBackupFile, m.BackupError);
        return new HealthReport(
            storeOk ? Healthy : Unhealthy,
            Math.Round((time.GetUtcNow() - status.StartedAt).TotalSeconds, 3),
            status.StartedAt,
            new LastCycle(status.LastStart, status.LastEnd, status.LastOutcome, status.Running),
            status.LastSuccess,
            status.NextRun,
            storeState,
            problem,
            checks);
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
