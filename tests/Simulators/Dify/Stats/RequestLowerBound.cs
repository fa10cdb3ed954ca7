namespace Simulators.Dify;

/// <summary>
/// The fewest console API requests that extract every event of a workspace (all of its data, page
/// size 100, the most Dify allows): one login, the profile, the app list pages, per app its listing
/// pages, per chat conversation its message pages, one detail per completion conversation, and one
/// node-executions call per production workflow run and per advanced-chat message with a run.
/// Computed from the object model, never from what was served, so a benchmark's ratio
/// (requests served ÷ lower bound) needs no guessing.
/// </summary>
public sealed record RequestLowerBound(
    int Auth,
    int Profile,
    int AppPages,
    int ConversationPages,
    int MessagePages,
    int CompletionDetails,
    int AppLogPages,
    int NodeExecutionCalls)
{
    public const int PageSize = 100;

    public int Total => Auth + Profile + AppPages + ConversationPages + MessagePages + CompletionDetails + AppLogPages + NodeExecutionCalls;

    public static RequestLowerBound Compute(SimWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        var visible = workspace.Apps.Where(a => !a.Archived).ToList();
        int conversationPages = 0, messagePages = 0, completionDetails = 0, logPages = 0, nodeCalls = 0;
        foreach (var app in visible)
        {
            switch (app.ReportedMode)
            {
                case "chat" or "agent-chat" or "advanced-chat":
                    var advanced = app.ReportedMode == "advanced-chat";
                    var listed = app.Conversations.Where(c => c.Messages.Count > 0 && !(advanced && c.IsDebugger)).ToList();
                    conversationPages += Pages(listed.Count);
                    foreach (var conversation in listed)
                    {
                        messagePages += Pages(conversation.Messages.Count);
                        if (advanced)
                        {
                            nodeCalls += conversation.Messages.Count(m => m.WorkflowRunId is not null);
                        }
                    }

                    break;
                case "completion":
                    var completions = app.Conversations.Count(c => c.Messages.Count > 0);
                    conversationPages += Pages(completions);
                    completionDetails += completions;
                    break;
                case "workflow":
                    var runs = app.Runs.Count(r => r.TriggeredFrom == "app-run");
                    logPages += Pages(runs);
                    nodeCalls += runs;
                    break;
                default:
                    break; // modes the exporter skips read nothing
            }
        }

        return new RequestLowerBound(1, 1, Pages(visible.Count), conversationPages, messagePages, completionDetails, logPages, nodeCalls);
    }

    /// <summary>A listing costs at least one page, even when empty.</summary>
    private static int Pages(int items) => Math.Max(1, (items + PageSize - 1) / PageSize);
}
