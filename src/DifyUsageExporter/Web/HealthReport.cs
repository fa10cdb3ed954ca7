using DifyUsageExporter.Configuration;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Web;

/// <summary>The last cycle as shown by /health.</summary>
public sealed record LastCycle(DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Outcome, bool Running);

/// <summary>The spool as shown by /health: records pending, dead letters, age of the oldest pending record.</summary>
public sealed record SpoolHealth(long Pending, long Dead, double? OldestPendingAgeSeconds);

/// <summary>The latest verify and backup of the daemon's maintenance, as shown by /health.</summary>
public sealed record StoreChecks(string Verify, DateTimeOffset? VerifiedAt, IReadOnlyList<string> Violations, DateTimeOffset? LastBackupAt, string? LastBackupFile, string? BackupError);

/// <summary>
/// The body of GET /health. <see cref="Status"/> is ok, degraded (200) or failing (503), with one
/// sentence per reason; everything but the uptime and the next run comes from the state store, so a
/// restarted daemon reports what it inherited. The rules are in docs/operations.md ("Health").
/// </summary>
public sealed record HealthReport(
    string Status,
    IReadOnlyList<string> Reasons,
    DateTimeOffset? LastSuccessAt,
    SpoolHealth Spool,
    double UptimeSeconds,
    DateTimeOffset StartedAt,
    LastCycle LastCycle,
    DateTimeOffset? NextRunAt,
    string Store,
    string? Problem,
    StoreChecks Checks)
{
    /// <summary>The latest reconcile with Dify's statistics (kept in the store, so a restart keeps it), or null.</summary>
    public System.Text.Json.JsonElement? Reconcile { get; init; }

    /// <summary>Apps the latest extraction skipped because this exporter does not know their mode (not counted).</summary>
    public IReadOnlyList<string> UnknownModeApps { get; init; } = [];

    public const string Ok = "ok";
    public const string Degraded = "degraded";
    public const string Failing = "failing";

    /// <summary>200 for ok and degraded, 503 for failing (the container HEALTHCHECK turns unhealthy).</summary>
    public int HttpStatus => Status == Failing ? 503 : 200;

    public static HealthReport Build(CycleStatus status, StateStore store, CronSchedule cron, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(cron);
        var now = time.GetUtcNow();
        var lastCycle = new LastCycle(status.LastStart, status.LastEnd, status.LastOutcome, status.Running);
        var uptime = Math.Round((now - status.StartedAt).TotalSeconds, 3);
        if (!StoreProbe(store, out var problem))
        {
            return new HealthReport(Failing, [$"The state store is unusable: {problem}"], status.LastSuccess, new SpoolHealth(0, 0, null), uptime, status.StartedAt, lastCycle, status.NextRun, "unusable", problem, ReadChecks(status));
        }

        CycleRecord? finished, success, firstCycle;
        SpoolSummary spool;
        try
        {
            finished = store.ReadLastFinishedCycle();
            success = store.ReadLastCaughtUpCycle();
            firstCycle = store.ReadFirstCycle();
            spool = store.ReadSpoolSummary();
        }
        catch (System.Data.Common.DbException ex)
        {
            // The store broke between the probe and the reads: the same answer as a failed probe.
            return new HealthReport(Failing, [$"The state store is unusable: {ex.Message}"], status.LastSuccess, new SpoolHealth(0, 0, null), uptime, status.StartedAt, lastCycle, status.NextRun, "unusable", ex.Message, ReadChecks(status));
        }

        var failing = new List<string>();
        var degraded = new List<string>();

        if (finished is { FailureKind: StateStore.CredentialsFailure })
        {
            failing.Add($"Dify rejected the credentials in the last cycle (started {Instant(finished.StartedAt)}): {Cut(finished.Summary)} Fix DIFY_EMAIL/DIFY_PASSWORD (or DIFY_API_TOKEN), check them with `dify-usage-exporter check --dify`, then restart.");
        }

        // "No successful cycle for more than two schedule intervals": two firings passed since the
        // last success (or since the first cycle / this start when there was none) and the cycle of
        // the second is not still running (or a third firing passed too).
        var since = success?.StartedAt ?? firstCycle?.StartedAt ?? status.StartedAt;
        var first = cron.NextAfter(since);
        var second = cron.NextAfter(first);
        if (now > cron.NextAfter(second) || (now > second && !status.Running))
        {
            failing.Add(success is null
                ? $"No successful cycle since {Instant(since)} (none is recorded), more than two schedule intervals: usage is not reaching API_Meter."
                : $"No successful cycle since the one that finished at {Instant(success.FinishedAt ?? success.StartedAt)}, more than two schedule intervals: usage is not reaching API_Meter.");
        }

        if (finished is { Outcome: not "success", FailureKind: null } && !(finished.CaughtUp && spool.Pending == 0))
        {
            degraded.Add(finished.Outcome switch
            {
                StateStore.AbandonedOutcome => $"The last cycle (started {Instant(finished.StartedAt)}) was abandoned: its process ended before it finished.",
                CycleExecutor.Cancelled => $"The last cycle (started {Instant(finished.StartedAt)}) was cancelled at shutdown.",
                "spooled" => $"The last cycle (started {Instant(finished.StartedAt)}) left records undelivered: {Cut(finished.Summary)}",
                _ => $"The last cycle (started {Instant(finished.StartedAt)}) failed: {Cut(finished.Summary)}",
            });
        }

        if (spool.Dead > 0)
        {
            degraded.Add($"{spool.Dead} dead letter(s) in the spool wait for an operator: see `dify-usage-exporter spool list`, then `spool resend` or `spool discard`.");
        }

        if (spool.Pending > 0)
        {
            degraded.Add($"{spool.Pending} record(s) wait in the spool for delivery, the oldest since {Instant(spool.OldestPendingSince!.Value)}; they are sent again every cycle.");
        }

        if (finished is { AppsSkipped: > 0 })
        {
            degraded.Add($"The last cycle skipped {finished.AppsSkipped} app(s) whose mode the exporter does not know; their usage is not exported (see the log lines 'has mode ..., which the exporter does not know').");
        }

        // A violation found by the daemon's verify (docs/operations.md, "Backup, restore, verify").
        var checks = ReadChecks(status);
        string? storeProblem = null;
        if (checks.Violations.Count > 0)
        {
            storeProblem = $"verify found {checks.Violations.Count} problem(s) in the state store (run `dify-usage-exporter verify`): {checks.Violations[0]}";
            failing.Add($"The state store is inconsistent: {storeProblem}");
        }

        var verdict = failing.Count > 0 ? Failing : degraded.Count > 0 ? Degraded : Ok;
        var oldest = spool.OldestPendingSince is { } t ? Math.Round(Math.Max(0, (now - t).TotalSeconds), 3) : (double?)null;
        return new HealthReport(
            verdict,
            [.. failing, .. degraded],
            success?.FinishedAt,
            new SpoolHealth(spool.Pending, spool.Dead, oldest),
            uptime,
            status.StartedAt,
            lastCycle,
            status.NextRun,
            storeProblem is null ? "ok" : "inconsistent",
            storeProblem,
            checks);
    }

    private static StoreChecks ReadChecks(CycleStatus status)
    {
        var m = status.Maintenance;
        var violations = m.Violations;
        return new StoreChecks(m.VerifiedAt is null ? "not run yet" : violations.Count == 0 ? "ok" : "failed", m.VerifiedAt, violations, m.LastBackupAt, m.LastBackupFile, m.BackupError);
    }

    private static bool StoreProbe(StateStore store, out string? problem)
    {
        if (!store.IsPostgres && !File.Exists(store.Path))
        {
            problem = $"the file {store.Path} is missing (was DATA_DIR removed or unmounted?).";
            return false;
        }

        return store.IsHealthy(out problem);
    }

    private static string Instant(DateTimeOffset instant) =>
        Iso.InstantSeconds(instant);

    private static string Cut(string? summary)
    {
        var text = (summary ?? string.Empty).Trim();
        text = text.Length > 300 ? text[..300] + "…" : text;
        return text.EndsWith('.') || text.EndsWith('…') ? text : text + ".";
    }

    /// <summary>Adds what the store keeps of the latest reconcile and extraction (nothing when the store is unusable).</summary>
    public static async Task<HealthReport> WithStateAsync(HealthReport report, StateStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(store);
        if (report.Store == "unusable")
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
        catch (Exception ex) when (ex is StoreException or System.Data.Common.DbException or System.Text.Json.JsonException)
        {
            // The store answered the probe but not this read: report what is known rather than fail /health.
            return report;
        }
    }

    /// <summary>Sets the reconcile and unknown-mode gauges from the store at start, so /metrics survives a restart.</summary>
    public static async Task LoadGaugesAsync(StateStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
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
