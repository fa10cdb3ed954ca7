using Npgsql;

namespace DifyUsageExporter.Dify.Database;

/// <summary>What the storage check saw: recent finished runs, how many of them have node rows, and advanced-chat messages whose run is missing.</summary>
public sealed record StorageReport(int RecentRuns, int RunsWithNodes, int RecentRunMessages, int MessagesWithRun)
{
    /// <summary>
    /// True when node executions (or runs) are evidently not written to these tables: Dify's
    /// <c>WORKFLOW_NODE_EXECUTION_STORAGE_BACKEND=logstore</c> (or a run repository outside PostgreSQL).
    /// </summary>
    public bool ElsewhereThanDatabase => (RecentRuns > 0 && RunsWithNodes == 0) || (RecentRunMessages > 0 && MessagesWithRun == 0);
}

public sealed partial class DifyDatabase
{
    /// <summary>How long after a run finished its node rows must exist (Dify's celery backend writes them asynchronously).</summary>
    public static readonly TimeSpan NodeWriteGrace = TimeSpan.FromMinutes(10);

    private const int StorageSample = 50;

    /// <summary>
    /// Looks at the newest finished production runs (finished at least <see cref="NodeWriteGrace"/> ago) and
    /// the newest advanced-chat messages with a run: with node storage in the database every run has node rows
    /// and every message's run exists. None at all means Dify writes them elsewhere (logstore), and the database
    /// source would silently miss all graph usage.
    /// </summary>
    public async Task<StorageReport> CheckStorageAsync(string tenantId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var before = now.UtcDateTime - NodeWriteGrace;
        int runs = 0, withNodes = 0, messages = 0, withRun = 0;
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await QueryAsync(connection, $"""
            SELECT count(*)::int, count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM workflow_node_executions n
                WHERE n.tenant_id = r.tenant_id AND n.app_id = r.app_id AND n.workflow_id = r.workflow_id AND n.workflow_run_id = r.id))::int
            FROM (SELECT id, tenant_id, app_id, workflow_id FROM workflow_runs
                  WHERE tenant_id = @tenant::uuid AND finished_at IS NOT NULL AND finished_at < @before
                  ORDER BY created_at DESC LIMIT {StorageSample}) r
            """, p => Bind(p, tenantId, before), r => (runs, withNodes) = (r.GetInt32(0), r.GetInt32(1)), cancellationToken).ConfigureAwait(false);
        await QueryAsync(connection, $"""
            SELECT count(*)::int, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = m.workflow_run_id))::int
            FROM (SELECT m.workflow_run_id FROM messages m JOIN apps a ON a.id = m.app_id
                  WHERE a.tenant_id = @tenant::uuid AND m.workflow_run_id IS NOT NULL AND m.created_at < @before
                  ORDER BY m.created_at DESC LIMIT {StorageSample}) m
            """, p => Bind(p, tenantId, before), r => (messages, withRun) = (r.GetInt32(0), r.GetInt32(1)), cancellationToken).ConfigureAwait(false);
        return new StorageReport(runs, withNodes, messages, withRun);
    }

    /// <summary>Refuses a Dify whose workflow storage is not these tables, with the fix.</summary>
    public async Task RequireDatabaseStorageAsync(string tenantId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var report = await CheckStorageAsync(tenantId, now, cancellationToken).ConfigureAwait(false);
        if (report.ElsewhereThanDatabase)
        {
            throw new DifyDatabaseException(
                DifyDatabaseFailure.StorageBackend,
                $"This Dify does not store workflow node executions in its database: of the {report.RecentRuns} newest finished workflow runs {report.RunsWithNodes} have node rows, and of the {report.RecentRunMessages} newest chatflow messages {report.MessagesWithRun} have their run in workflow_runs (WORKFLOW_NODE_EXECUTION_STORAGE_BACKEND=logstore or another repository). The database source would miss all workflow usage.",
                "use DIFY_SOURCE=console for this Dify (the console API reads node executions wherever Dify stores them), or switch Dify's workflow storage back to the database.");
        }
    }

    private static void Bind(NpgsqlParameterCollection p, string tenantId, DateTime before)
    {
        p.AddWithValue("tenant", tenantId);
        p.Add(new NpgsqlParameter("before", NpgsqlTypes.NpgsqlDbType.Timestamp) { Value = DateTime.SpecifyKind(before, DateTimeKind.Unspecified) });
    }
}
