using System.Text.Json;
using DifyUsageExporter.Usage;
using static DifyUsageExporter.Dify.Database.DatabaseRows;

namespace DifyUsageExporter.Dify.Database;

public sealed partial class DatabaseUsageSource
{
    /// <summary>
    /// Production runs of workflow apps and knowledge pipelines in [read start, window end), driven from
    /// <c>workflow_runs</c> (by <c>created_at</c>) with their node rows joined by <c>workflow_run_id</c>. Studio
    /// runs (<c>debugging</c>, <c>rag-pipeline-debugging</c>) never count; single-step node runs have no run and
    /// are excluded by their <c>triggered_from</c>. Iteration/loop containers are skipped by the shared node
    /// rules; a run without node usage but with <c>total_tokens</c> becomes one <c>unknown</c> event.
    /// </summary>
    private async Task ReadRunsAsync(DatabaseRun run, string tenantId, DateTimeOffset readFrom, CancellationToken cancellationToken)
    {
        var apps = run.Targets.Values.Where(t => t.Info.Mode is "workflow" or DifyUsageSource.PipelineMode).ToList();
        if (apps.Count == 0)
        {
            return;
        }

        const string Sql = """
            SELECT r.id::text, r.app_id::text, r.triggered_from, r.created_at, r.created_by_role, r.created_by::text, r.total_tokens::bigint,
                   n.id::text, n.node_id, n.node_type, n.process_data::text, n.outputs::text, n.execution_metadata::text
            FROM workflow_runs r
            LEFT JOIN workflow_node_executions n ON n.tenant_id = r.tenant_id AND n.app_id = r.app_id
                 AND n.workflow_id = r.workflow_id AND n.workflow_run_id = r.id AND n.triggered_from <> 'single-step'
            WHERE r.tenant_id = @tenant::uuid AND r.app_id = ANY (@apps::uuid[])
              AND r.created_at >= @start AND r.created_at < @end
              AND r.triggered_from NOT IN ('debugging', 'rag-pipeline-debugging')
              AND (r.app_id = ANY (@workflows::uuid[]) OR r.triggered_from = 'rag-pipeline-run')
            ORDER BY r.created_at, r.id, n.index, n.id
            """;
        string? current = null, appId = null, triggeredFrom = null, role = null, creator = null;
        long totalTokens = 0;
        DateTime created = default;
        var nodes = new List<NodeRow>();
        await StreamAsync(Sql, p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("apps", apps.Select(a => a.Info.Id).ToArray());
            p.AddWithValue("workflows", apps.Where(a => a.Info.Mode == "workflow").Select(a => a.Info.Id).ToArray());
            p.Add(Timestamp("start", readFrom));
            p.Add(Timestamp("end", run.Window.End));
        }, run, async (r, ct) =>
        {
            var id = r.GetString(0);
            if (id != current)
            {
                if (current is not null)
                {
                    await RunAsync().ConfigureAwait(false);
                }

                current = id;
                appId = r.GetString(1);
                triggeredFrom = Text(r, 2);
                created = r.GetDateTime(3);
                role = Text(r, 4);
                creator = Text(r, 5);
                totalTokens = r.IsDBNull(6) ? 0 : r.GetInt64(6);
                nodes.Clear();
            }

            if (Text(r, 7) is { } nodeId)
            {
                nodes.Add(new NodeRow(nodeId, Text(r, 8), Text(r, 9), Text(r, 10), Text(r, 11), Text(r, 12)));
            }
        }, cancellationToken).ConfigureAwait(false);
        if (current is not null)
        {
            await RunAsync().ConfigureAwait(false);
        }

        async Task RunAsync()
        {
            var target = run.Targets[appId!];
            var at = Instant(created);
            if (!run.InRange(target, at))
            {
                return;
            }

            var app = target.Info;
            var (userId, userType) = Creator(role, creator);
            List<UsageEvent> events;
            try
            {
                events = DifyUsageMapper.FromNodes(app, nodes.Select(Node).ToList(), current!, userId, userType, at, run.Window.Zone);
            }
            catch (JsonException ex)
            {
                var reason = ex is RowJsonException ? ex.Message : $"node of workflow_runs row {current}: {ex.Message}";
                DifyLog.ItemFailed(logger, app.Name, app.Id, app.Mode == "workflow" ? "workflow run" : "pipeline run", current!, reason);
                run.Fail(target, at, reason);
                return;
            }

            var summary = new DifyWorkflowRunSummary { Id = current, TriggeredFrom = triggeredFrom, TotalTokens = totalTokens, CreatedAt = at };
            if (events.Count == 0 && DifyUsageMapper.FromRunFallback(app, summary, userId, userType, at, run.Window.Zone) is { } fallback)
            {
                DifyLog.RunWithoutNodeUsage(logger, app.Name, app.Id, current!, fallback.InputTokens);
                events.Add(fallback);
            }

            // Same source ids as the console source: {run id}@{trigger} for trigger-started workflow runs, the run id otherwise.
            var (source, marked) = app.Mode == "workflow" ? DifyUsageSource.TriggerSource(summary, events) : (current!, events);
            await run.AddAsync(source, marked, cancellationToken).ConfigureAwait(false);
        }
    }
}
