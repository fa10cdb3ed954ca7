namespace Simulators.Dify;

public sealed partial class GroundTruth
{
    private const string Unknown = SimModelRef.Unknown;

    /// <summary>chat, agent-chat, completion: one event per message; metadata.usage or the token columns at cost 0.</summary>
    private static void AddMessageEvents(SimApp app, List<TruthEvent> events)
    {
        foreach (var conv in app.Conversations)
        {
            foreach (var m in conv.Messages)
            {
                var (input, output, cost) = m.Usage is { } u
                    ? (u.PromptTokens, u.CompletionTokens, u.TotalPrice)
                    : (m.MessageTokens, m.AnswerTokens, 0m);
                Add(events, app, m.Id.ToString(), conv.From, m.CreatedAt, app.Model?.Provider ?? Unknown, app.Model?.Model ?? Unknown, input, output, cost, "message");
            }
        }
    }

    /// <summary>advanced-chat: node events of the message's run, else the message's own usage; debugger conversations excluded.</summary>
    private static void AddAdvancedChatEvents(SimApp app, List<TruthEvent> events)
    {
        var runs = app.Runs.ToDictionary(r => r.Id);
        foreach (var conv in app.Conversations.Where(c => !c.IsDebugger))
        {
            foreach (var m in conv.Messages)
            {
                var before = events.Count;
                if (m.WorkflowRunId is { } runId && runs.TryGetValue(runId, out var run))
                {
                    AddNodeEvents(app, run, conv.From, m.CreatedAt, events);
                }

                if (events.Count == before)
                {
                    var (input, output, cost) = m.Usage is { } u
                        ? (u.PromptTokens, u.CompletionTokens, u.TotalPrice)
                        : (m.MessageTokens, m.AnswerTokens, 0m);
                    Add(events, app, m.Id.ToString(), conv.From, m.CreatedAt, Unknown, Unknown, input, output, cost, "message-fallback");
                }
            }
        }
    }

    /// <summary>workflow: production runs (those with an app log: app-run and trigger-started) only, at the run's created_at.</summary>
    private static void AddWorkflowEvents(SimApp app, List<TruthEvent> events)
    {
        foreach (var run in app.Runs.Where(r => r.IsLogged))
        {
            AddNodeEvents(app, run, run.CreatedBy, run.CreatedAt, events);
        }
    }

    private static void AddNodeEvents(SimApp app, SimWorkflowRun run, SimActor user, DateTimeOffset at, List<TruthEvent> events)
    {
        foreach (var node in run.Nodes)
        {
            if (node.Usage is not { } u)
            {
                continue;
            }

            switch (node.Shape)
            {
                case SimNodeUsageShape.ProcessData:
                    Add(events, app, node.Id.ToString(), user, at, node.Model?.Provider ?? Unknown, node.Model?.Model ?? Unknown, u.PromptTokens, u.CompletionTokens, u.TotalPrice, "node");
                    break;
                case SimNodeUsageShape.OutputsOnly:
                    Add(events, app, node.Id.ToString(), user, at, Unknown, Unknown, u.PromptTokens, u.CompletionTokens, u.TotalPrice, "node");
                    break;
                case SimNodeUsageShape.AgentNested:
                    // input = total − completion (only total and completion are reliable in the nested usage).
                    Add(events, app, node.Id.ToString(), user, at, Unknown, Unknown, u.TotalTokens - u.CompletionTokens, u.CompletionTokens, u.TotalPrice, "node");
                    break;
                case SimNodeUsageShape.MetadataOnly:
                    Add(events, app, node.Id.ToString(), user, at, Unknown, Unknown, u.TotalTokens, 0, u.TotalPrice, "node");
                    break;
                default:
                    break; // None and Container never count
            }
        }
    }

    private static void Add(List<TruthEvent> events, SimApp app, string id, SimActor user, DateTimeOffset at, string provider, string model, long input, long output, decimal cost, string source)
    {
        if (input == 0 && output == 0 && cost == 0)
        {
            return; // zero-token zero-cost invocations are not events
        }

        events.Add(new TruthEvent(id, app.Id, app.Name, app.ReportedMode, user.UserId, user.UserType, at, provider, model, input, output, cost, source));
    }
}
