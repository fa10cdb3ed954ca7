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
    /// <summary>The latest reconcile with Dify's statistics (kept in the store, so a restart keeps it), or null.</summary>
    public System.Text.Json.JsonElement? Reconcile { get; init; }

    /// <summary>Apps the latest extraction skipped because this exporter does not know their mode (not counted).</summary>
    public IReadOnlyList<string> UnknownModeApps { get; init; } = [];

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
