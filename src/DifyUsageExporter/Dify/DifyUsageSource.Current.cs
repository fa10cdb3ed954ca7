using System.Collections.Concurrent;
using System.Text.Json;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Dify;

/// <summary>
/// The usage kinds of current Dify (1.12–1.17) that are not plain apps of <c>/apps</c>: agent apps
/// (Dify Agent runtime, read from the agent monitoring log) and knowledge (RAG) pipeline runs
/// (read through the knowledge bases). See docs/dify.md, "Current Dify".
/// </summary>
public sealed partial class DifyUsageSource
{
    /// <summary>Internal mode of a knowledge-pipeline target (never an <c>/apps</c> mode: those are skipped as unknown).</summary>
    internal const string PipelineMode = "rag-pipeline";

    /// <summary>App modes Dify has but that never carry usage (no app generator handles <c>channel</c>).</summary>
    internal static readonly HashSet<string> NoUsageModes = new(StringComparer.Ordinal) { "channel" };

    /// <summary>
    /// The agent apps and knowledge pipelines to read besides the <c>/apps</c> list. Agent apps are
    /// joined by app id with <c>/console/api/agent</c> (which gives the agent id the log needs);
    /// an agent app listed by <c>/apps</c> without an agent id is read only if the agent list names it.
    /// </summary>
    /// <param name="apps">The known <c>/apps</c> entries; agent apps are removed when this Dify has no agent API.</param>
    /// <param name="unknown">Receives the apps that cannot be read, as "name (id): mode".</param>
    private async Task<List<DifyApp>> CurrentTargetsAsync(List<DifyApp> apps, ExtractionRun run, List<string> unknown, CancellationToken cancellationToken)
    {
        var targets = new List<DifyApp>();
        IReadOnlyList<DifyAgentApp>? agents = [];
        try
        {
            agents = await client.ListAgentAppsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DifyApiException ex)
        {
            run.Fail(new DifyAppInfo("agent-apps", "Agent apps (/console/api/agent)", "agent", null, null), run.Window.Start, run.Window.End, "agent apps could not be listed: " + ex.Message);
        }

        var listed = apps.Where(a => a.Mode == "agent" && a.Id is not null).ToDictionary(a => a.Id!, StringComparer.Ordinal);
        if (agents is null)
        {
            // No /console/api/agent on this Dify: an "agent" app here is not the Agent runtime's and cannot be read.
            foreach (var app in listed.Values.Where(a => string.IsNullOrEmpty(a.BoundAgentId)))
            {
                apps.Remove(app);
                unknown.Add($"{app.Name ?? app.Id} ({app.Id}): agent");
                DifyMetrics.SkippedApps.Add(1);
                DifyLog.UnknownMode(logger, app.Name ?? app.Id!, app.Id!, "agent");
            }

            agents = [];
        }

        foreach (var agent in agents)
        {
            if (string.IsNullOrEmpty(agent.AppId) || string.IsNullOrEmpty(agent.Id))
            {
                continue;
            }

            if (listed.TryGetValue(agent.AppId, out var app))
            {
                app.BoundAgentId ??= agent.Id;
            }
            else
            {
                targets.Add(new DifyApp { Id = agent.AppId, Name = agent.Name, Mode = "agent", BoundAgentId = agent.Id });
            }
        }

        try
        {
            await foreach (var dataset in client.ListDatasetsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (string.Equals(dataset.RuntimeMode, "rag_pipeline", StringComparison.Ordinal) && !string.IsNullOrEmpty(dataset.PipelineId))
                {
                    targets.Add(new DifyApp { Id = dataset.PipelineId, Name = string.IsNullOrEmpty(dataset.Name) ? dataset.Id : dataset.Name, Mode = PipelineMode, IsPipeline = true });
                }
            }
        }
        catch (DifyApiException ex) when (ex.StatusCode == 404)
        {
            // No knowledge API at all (a trimmed or fake console): nothing to read there.
        }
        catch (DifyApiException ex)
        {
            // Without the knowledge-base list, pipeline usage of every day is unknown: the days are incomplete.
            run.Fail(new DifyAppInfo("knowledge-pipelines", "Knowledge pipelines (/console/api/datasets)", PipelineMode, null, null), run.Window.Start, run.Window.End, "knowledge bases could not be listed: " + ex.Message);
        }

        return targets;
    }

    /// <summary>Agent app: production conversations of the monitoring log → messages → one event per message.</summary>
    private async Task ExtractAgentAsync(AppScope scope, string? agentId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(agentId))
        {
            throw new DifyShapeException("/console/api/agent", $"no agent id for agent app {scope.App.Id}; the agent log cannot be read");
        }

        var start = ConversationStart(scope);
        var zeroUsage = new ConcurrentDictionary<DateOnly, int>();
        var conversations = client.ListAgentLogsAsync(agentId, start, cancellationToken);
        await Parallel.ForEachAsync(conversations, Parallelism(cancellationToken), async (row, ct) =>
        {
            var conversationId = row.ConversationId ?? row.Id;
            if (string.IsNullOrEmpty(conversationId) || !IsWebappRow(row))
            {
                return;
            }

            try
            {
                await foreach (var message in client.ListAgentMessagesAsync(agentId, conversationId, start, ct).ConfigureAwait(false))
                {
                    var at = message.CreatedAt;
                    if (string.IsNullOrEmpty(message.Id) || at is null || !scope.InRange(at.Value)
                        || string.Equals(DifyAgentUsage.Source(message.Source), "debugger", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var usageEvent = DifyAgentUsage.FromMessage(scope.App, message, at.Value, scope.Run.Window.Zone);
                    if (usageEvent is null && !string.Equals(message.Status, "failed", StringComparison.Ordinal))
                    {
                        zeroUsage.AddOrUpdate(scope.Run.Window.DateOf(at.Value), 1, (_, n) => n + 1);
                    }

                    await scope.AddAsync(message.Id, usageEvent is null ? [] : [usageEvent], ct).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is DifyApiException or JsonException && !ct.IsCancellationRequested)
            {
                DifyLog.ItemFailed(logger, scope.App.Name, scope.App.Id, "agent conversation", conversationId, ex.Message);
                scope.Fail(row.CreatedAt ?? scope.ReadFrom, row.UpdatedAt ?? scope.Run.Window.End, $"agent conversation {conversationId}: {ex.Message}");
            }
        }).ConfigureAwait(false);

        foreach (var (day, count) in zeroUsage.OrderBy(d => d.Key))
        {
            // Dify before PR #38270 stored agent messages with 0 tokens: never a silent zero.
            DifyLog.AgentZeroUsage(logger, scope.App.Name, scope.App.Id, day, count);
            scope.Run.ZeroUsage.Add(new ZeroUsageDay(scope.App.Id, scope.App.Name, day, count));
        }
    }

    /// <summary>Log rows of the agent's own app (<c>source.type = webapp</c>); rows of workflow agent nodes are counted from their workflow.</summary>
    private static bool IsWebappRow(DifyAgentLogRow row)
    {
        var type = DifyAgentUsage.Source(row.Source);
        return type is null || string.Equals(type, "webapp", StringComparison.Ordinal);
    }

    /// <summary>
    /// Knowledge pipeline: production runs of <c>/rag/pipelines/{id}/workflow-runs</c> (newest first,
    /// <c>last_id</c> paging) → node executions; preview runs (<c>version = draft</c>, or
    /// <c>triggered_from = rag-pipeline-debugging</c>) never count.
    /// </summary>
    private async Task ExtractPipelineAsync(AppScope scope, CancellationToken cancellationToken)
    {
        var runs = new List<DifyWorkflowRunItem>();
        string? lastId = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var page = await client.GetPipelineRunsPageAsync(scope.App.Id, lastId, cancellationToken).ConfigureAwait(false);
            var data = page.Data ?? [];
            runs.AddRange(data.Where(r => IsProductionPipelineRun(r) && r.CreatedAt is { } at && scope.InRange(at)));
            var last = data.LastOrDefault(r => r.Id is not null);
            if (data.Count == 0 || page.HasMore != true || last?.Id is null || !seen.Add(last.Id)
                || (last.CreatedAt is { } t && t < scope.ReadFrom - FilterMargin))
            {
                break;
            }

            lastId = last.Id;
        }

        await Parallel.ForEachAsync(runs, Parallelism(cancellationToken), async (run, ct) =>
        {
            var at = run.CreatedAt!.Value;
            IReadOnlyList<DifyNodeExecution> nodes;
            try
            {
                nodes = await client.GetPipelineNodeExecutionsAsync(scope.App.Id, run.Id!, ct).ConfigureAwait(false);
                var creator = nodes.FirstOrDefault(n => n.CreatedByEndUser?.Id is not null || n.CreatedByAccount?.Id is not null);
                var (userId, userType) = creator?.CreatedByEndUser?.Id is { } endUser ? (endUser, "end_user")
                    : (creator?.CreatedByAccount?.Id ?? run.CreatedByAccount?.Id) is { } account ? (account, "account")
                    : (DifyUsageMapper.Unknown, DifyUsageMapper.Unknown);
                var events = DifyUsageMapper.FromNodes(scope.App, nodes, run.Id!, userId, userType, at, scope.Run.Window.Zone);
                var summary = new DifyWorkflowRunSummary { Id = run.Id, TotalTokens = DifyUsageMapper.ToLong(run.TotalTokens), CreatedAt = at };
                if (events.Count == 0 && DifyUsageMapper.FromRunFallback(scope.App, summary, userId, userType, at, scope.Run.Window.Zone) is { } fallback)
                {
                    DifyLog.RunWithoutNodeUsage(logger, scope.App.Name, scope.App.Id, run.Id!, fallback.InputTokens);
                    events.Add(fallback);
                }

                await scope.AddAsync(run.Id!, events, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DifyApiException or JsonException && !ct.IsCancellationRequested)
            {
                DifyLog.ItemFailed(logger, scope.App.Name, scope.App.Id, "pipeline run", run.Id!, ex.Message);
                scope.Fail(at, at, $"pipeline run {run.Id}: {ex.Message}");
            }
        }).ConfigureAwait(false);
    }

    private static bool IsProductionPipelineRun(DifyWorkflowRunItem run)
    {
        if (string.IsNullOrEmpty(run.Id))
        {
            return false;
        }

        if (run.TriggeredFrom is { } from)
        {
            return string.Equals(from, "rag-pipeline-run", StringComparison.Ordinal);
        }

        return !string.Equals(run.Version, "draft", StringComparison.Ordinal);
    }

    /// <summary>
    /// The ledger source of a workflow run: its id, or <c>{run id}@{triggered_from}</c> for a
    /// trigger-started run (webhook, schedule, plugin), so <c>reconcile</c> can tell the runs
    /// Dify's workflow statistics leave out (they count <c>app-run</c> only).
    /// </summary>
    internal static (string Source, IReadOnlyList<UsageEvent> Events) TriggerSource(DifyWorkflowRunSummary run, IReadOnlyList<UsageEvent> events)
    {
        var from = run.TriggeredFrom;
        if (string.IsNullOrEmpty(from) || string.Equals(from, "app-run", StringComparison.Ordinal))
        {
            return (run.Id!, events);
        }

        var source = run.Id + TriggerSeparator + from;
        return (source, [.. events.Select(e => e with { SourceId = source })]);
    }

    /// <summary>Separates a run id from its trigger kind in a ledger source id.</summary>
    internal const string TriggerSeparator = "@";
}
