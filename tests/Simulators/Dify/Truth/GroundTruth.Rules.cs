namespace Simulators.Dify;

public sealed partial class GroundTruth
{
    private const string Unknown = SimModelRef.Unknown;

    /// <summary>chat, agent-chat, completion: one event per message; metadata.usage or the token columns at cost 0.</summary>
    private static IEnumerable<TruthEvent> MessageEvents(SimApp app)
    {
        foreach (var conv in app.Conversations)
        {
            foreach (var m in conv.Messages)
            {
                var (input, output, cost) = m.Usage is { } u
                    ? (u.PromptTokens, u.CompletionTokens, u.TotalPrice)
                    : (m.MessageTokens, m.AnswerTokens, 0m);
                if (Event(app, m.Id.ToString(), conv.From, m.CreatedAt, app.Model?.Provider ?? Unknown, app.Model?.Model ?? Unknown, input, output, cost, "message") is { } e)
                {
                    yield return e;
                }
            }
        }
    }

    /// <summary>advanced-chat: node events of the message's run, else the message's own usage; debugger conversations excluded.</summary>
    private static IEnumerable<TruthEvent> AdvancedChatEvents(SimApp app)
    {
        var runs = app.Runs.ToDictionary(r => r.Id);
        foreach (var conv in app.Conversations.Where(c => !c.IsDebugger))
        {
            foreach (var m in conv.Messages)
            {
                var any = false;
                if (m.WorkflowRunId is { } runId && runs.TryGetValue(runId, out var run))
                {
                    foreach (var e in NodeEvents(app, run, conv.From, m.CreatedAt))
                    {
                        any = true;
                        yield return e;
                    }
                }

                if (!any)
                {
                    var (input, output, cost) = m.Usage is { } u
                        ? (u.PromptTokens, u.CompletionTokens, u.TotalPrice)
                        : (m.MessageTokens, m.AnswerTokens, 0m);
                    if (Event(app, m.Id.ToString(), conv.From, m.CreatedAt, Unknown, Unknown, input, output, cost, "message-fallback") is { } e)
                    {
                        yield return e;
                    }
                }
            }
        }
    }

    /// <summary>workflow: production runs (those with an app log: app-run and trigger-started) only, at the run's created_at.</summary>
    private static IEnumerable<TruthEvent> WorkflowEvents(SimApp app)
        => app.Runs.Where(r => r.IsLogged).SelectMany(run => NodeEvents(app, run, run.CreatedBy, run.CreatedAt));

    private static IEnumerable<TruthEvent> NodeEvents(SimApp app, SimWorkflowRun run, SimActor user, DateTimeOffset at)
    {
        foreach (var node in run.Nodes)
        {
            if (node.Usage is not { } u)
            {
                continue;
            }

            var e = node.Shape switch
            {
                SimNodeUsageShape.ProcessData => Event(app, node.Id.ToString(), user, at, node.Model?.Provider ?? Unknown, node.Model?.Model ?? Unknown, u.PromptTokens, u.CompletionTokens, u.TotalPrice, "node"),
                SimNodeUsageShape.OutputsOnly => Event(app, node.Id.ToString(), user, at, Unknown, Unknown, u.PromptTokens, u.CompletionTokens, u.TotalPrice, "node"),
                // input = total − completion (only total and completion are reliable in the nested usage).
                SimNodeUsageShape.AgentNested => Event(app, node.Id.ToString(), user, at, Unknown, Unknown, u.TotalTokens - u.CompletionTokens, u.CompletionTokens, u.TotalPrice, "node"),
                SimNodeUsageShape.MetadataOnly => Event(app, node.Id.ToString(), user, at, Unknown, Unknown, u.TotalTokens, 0, u.TotalPrice, "node"),
                _ => null, // None and Container never count
            };
            if (e is not null)
            {
                yield return e;
            }
        }
    }

    private static TruthEvent? Event(SimApp app, string id, SimActor user, DateTimeOffset at, string provider, string model, long input, long output, decimal cost, string source)
    {
        if (input == 0 && output == 0 && cost == 0)
        {
            return null; // zero-token zero-cost invocations are not events
        }

        return new TruthEvent(id, app.Id, app.Name, app.ReportedMode, user.UserId, user.UserType, at, provider, model, input, output, cost, source);
    }
}
