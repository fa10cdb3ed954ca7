namespace Simulators.Dify;

/// <summary>Truth of the kinds of current Dify (1.12–1.17): agent apps and knowledge pipelines.</summary>
public sealed partial class GroundTruth
{
    /// <summary>Agent apps: one event per production message (debugger excluded), provider/model unknown.</summary>
    private static void AddAgentEvents(SimApp app, List<TruthEvent> events)
    {
        foreach (var conv in app.Conversations.Where(c => !c.IsDebugger))
        {
            foreach (var m in conv.Messages)
            {
                Add(events, app, m.Id.ToString(), conv.From, m.CreatedAt, Unknown, Unknown, m.MessageTokens, m.AnswerTokens, m.DbTotalPrice, "agent-message");
            }
        }
    }

    /// <summary>Knowledge pipelines: production runs (<c>rag-pipeline-run</c>) only, attributed to the knowledge base.</summary>
    private static void AddPipelineEvents(SimWorkspace workspace, List<TruthEvent> events)
    {
        foreach (var pipeline in workspace.Datasets.Select(d => d.Pipeline).OfType<SimApp>())
        {
            foreach (var run in pipeline.Runs.Where(r => r.TriggeredFrom == "rag-pipeline-run"))
            {
                AddNodeEvents(pipeline, run, run.CreatedBy, run.CreatedAt, events);
            }
        }
    }

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
