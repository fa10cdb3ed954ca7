namespace Simulators.Dify;

/// <summary>Truth of the kinds of current Dify (1.12–1.17): agent apps and knowledge pipelines.</summary>
public sealed partial class GroundTruth
{
    /// <summary>Agent apps: one event per production message (debugger excluded), provider/model unknown.</summary>
    private static IEnumerable<TruthEvent> AgentEvents(SimApp app)
    {
        foreach (var conv in app.Conversations.Where(c => !c.IsDebugger))
        {
            foreach (var m in conv.Messages)
            {
                if (Event(app, m.Id.ToString(), conv.From, m.CreatedAt, Unknown, Unknown, m.MessageTokens, m.AnswerTokens, m.DbTotalPrice, "agent-message") is { } e)
                {
                    yield return e;
                }
            }
        }
    }

    /// <summary>Knowledge pipelines: production runs (<c>rag-pipeline-run</c>) only, attributed to the knowledge base.</summary>
    private static IEnumerable<TruthEvent> PipelineEvents(SimWorkspace workspace)
        => workspace.Datasets.Select(d => d.Pipeline).OfType<SimApp>()
            .SelectMany(pipeline => pipeline.Runs.Where(r => r.TriggeredFrom == "rag-pipeline-run").SelectMany(run => NodeEvents(pipeline, run, run.CreatedBy, run.CreatedAt)));

    /// <summary>Per agent app and account-zone day: production agent messages Dify stored with zero usage (before PR #38270).</summary>
    public static IReadOnlyList<(Guid AppId, DateOnly Date, int Messages)> ZeroUsageAgentMessages(SimWorkspace workspace, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return [.. workspace.Apps.Where(a => a.Mode == "agent" && !a.Archived)
            .SelectMany(a => a.Conversations.Where(c => !c.IsDebugger).SelectMany(c => c.Messages)
                .Where(m => m.MessageTokens == 0 && m.AnswerTokens == 0 && m.DbTotalPrice == 0 && m.Status == "normal")
                .Select(m => (AppId: a.Id, Date: DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(m.CreatedAt, zone).DateTime))))
            .GroupBy(x => x)
            .Select(g => (g.Key.AppId, g.Key.Date, g.Count()))
            .OrderBy(x => x.AppId).ThenBy(x => x.Date)];
    }
}
