namespace Simulators.Dify;

public sealed partial class WorkspaceGenerator
{
    private SimApp AdvancedChatApp(string name)
    {
        var app = new SimApp { Id = NewId(), Name = name, Mode = "advanced-chat", CreatedAt = AppCreatedAt() };
        var main = Pick(AppModels);
        for (var c = 0; c < _o.ConversationsPerApp + _o.DebugRunsPerApp; c++)
        {
            var debug = c >= _o.ConversationsPerApp;
            var actor = debug ? SimActor.Of(Pick(_accounts)) : RandomActor(0.2);
            var conv = new SimConversation { Id = NewId(), Name = $"{name} conversation {c + 1}", From = actor, IsDebugger = debug };
            var count = debug ? 1 : _rng.Next(1, _o.MaxMessagesPerConversation + 1);
            var t = RandomInstant(TimeSpan.FromHours(2));
            for (var m = 0; m < count && t < _o.End; m++)
            {
                conv.Messages.Add(AdvancedMessage(app, conv, t, main, debug));
                t = NextMessageTime(t);
            }

            Link(conv);
            app.Conversations.Add(conv);
        }

        return app;
    }

    private SimMessage AdvancedMessage(SimApp app, SimConversation conv, DateTimeOffset at, SimModelRef main, bool debug)
    {
        var x = _rng.NextDouble();
        var messageId = NewId();
        if (x < 0.08)
        {
            // No workflow run at all: the message's own usage is the event (provider/model unknown).
            var (p, c) = RandomTokens();
            var u = SimUsage.Priced(p, c, main, RandomPriceFormat());
            return new SimMessage { Id = messageId, CreatedAt = at, MessageTokens = p, AnswerTokens = c, Usage = u };
        }

        Func<List<SimNode>> graph;
        var status = "normal";
        if (x < 0.13)
        {
            // The run has no node usage, but the message has: fall back to the message.
            graph = () => [Plain("start", "Start"), Plain("code", "Code"), Plain("answer", "Answer")];
        }
        else if (x < 0.17)
        {
            // Errored before any model call: nothing to count.
            graph = () => [Plain("start", "Start"), Plain("llm", "LLM", "failed")];
            status = "error";
        }
        else
        {
            graph = () => RichGraph(main, endWithAnswer: true);
        }

        var (nodes, heldNodes, nodeSource) = SeededNodes(graph);
        SimUsage messageUsage;
        if (x < 0.13)
        {
            var (p, c) = RandomTokens();
            messageUsage = SimUsage.Priced(p, c, main, RandomPriceFormat());
        }
        else if (x < 0.17)
        {
            messageUsage = SimUsage.Priced(0, 0, main, SimPriceFormat.Exponent);
        }
        else
        {
            messageUsage = SimUsage.Sum(LeafUsages(nodes), RandomPriceFormat());
        }

        var run = new SimWorkflowRun
        {
            Id = NewId(),
            TriggeredFrom = debug ? "debugging" : "app-run",
            Status = status == "error" ? "failed" : "succeeded",
            Error = status == "error" ? "Model invocation failed" : null,
            CreatedAt = at.AddSeconds(1), // the run starts just after the message: occurred_at is the message's
            FinishedAt = at.AddSeconds(_rng.Next(2, 30)),
            CreatedBy = conv.From,
            CreatedFrom = conv.From.EndUser is null ? "installed-app" : "service-api",
            Nodes = heldNodes,
            NodeSource = nodeSource,
            ConversationId = conv.Id,
            MessageId = messageId,
        };
        app.Runs.Add(run);
        var omitUsage = x >= 0.17 && Chance(0.12); // older builds dumped metadata before usage was filled
        return new SimMessage
        {
            Id = messageId,
            CreatedAt = at,
            MessageTokens = messageUsage.PromptTokens,
            AnswerTokens = messageUsage.CompletionTokens,
            Usage = omitUsage ? null : messageUsage,
            WorkflowRunId = run.Id,
            Status = status,
            Error = status == "error" ? "Model invocation failed" : null,
        };
    }

    private SimApp WorkflowApp(string name)
    {
        var app = new SimApp { Id = NewId(), Name = name, Mode = "workflow", CreatedAt = AppCreatedAt() };
        var main = Pick(AppModels);
        for (var r = 0; r < _o.RunsPerWorkflowApp + _o.DebugRunsPerApp; r++)
        {
            var debug = r >= _o.RunsPerWorkflowApp;
            app.Runs.Add(WorkflowRun(main, debug));
        }

        return app;
    }

    private SimWorkflowRun WorkflowRun(SimModelRef main, bool debug)
    {
        var at = RandomInstant(TimeSpan.FromMinutes(5));
        var finished = at.AddSeconds(_rng.Next(1, 180));
        SimActor creator;
        string createdFrom;
        var y = _rng.NextDouble();
        if (debug || y < 0.25)
        {
            creator = SimActor.Of(Pick(_accounts));
            createdFrom = "installed-app";
        }
        else
        {
            var browser = y < 0.5;
            var candidates = _endUsers.Where(u => (u.Type == "browser") == browser).ToList();
            creator = SimActor.Of(candidates.Count > 0 ? Pick(candidates) : Pick(_endUsers));
            createdFrom = creator.EndUser!.Type == "browser" ? "web-app" : "service-api";
        }

        var x = _rng.NextDouble();
        Func<List<SimNode>> graph;
        string status;
        string? error = null;
        if (x < 0.08)
        {
            // Failed after consuming tokens: the tokens count.
            graph = () => [Plain("start", "Start"), Llm(main), Plain("llm", "LLM 2", "failed")];
            status = "failed";
            error = "[openai] Rate Limit Error, Error code: 429";
        }
        else if (x < 0.15)
        {
            graph = () => [Plain("start", "Start"), Plain("llm", "LLM", "failed")];
            status = "failed";
            error = "[openai] Rate Limit Error, Error code: 429";
        }
        else
        {
            graph = () => RichGraph(main, endWithAnswer: false);
            status = x < 0.2 ? "stopped" : "succeeded";
        }

        var (_, heldNodes, nodeSource) = SeededNodes(graph);
        return new SimWorkflowRun
        {
            Id = NewId(),
            TriggeredFrom = debug ? "debugging" : "app-run",
            Status = status,
            Error = error,
            CreatedAt = at,
            FinishedAt = finished,
            CreatedBy = creator,
            CreatedFrom = createdFrom,
            Nodes = heldNodes,
            NodeSource = nodeSource,
            LogId = NewId(),
            LogCreatedAtOverride = _o.SomeLogsAtFinish && Chance(0.3) ? finished : null,
        };
    }
}
