namespace Simulators.Dify;

/// <summary>The kinds of Dify 1.12–1.17 (GeneratorOptions.CurrentDifyKinds), each with its traps.</summary>
public sealed partial class WorkspaceGenerator
{
    private void AddCurrentDifyKinds(SimWorkspace ws, ref int n)
    {
        var agents = new List<SimApp>();
        for (var i = 0; i < _o.AgentApps; i++)
        {
            agents.Add(AgentApp($"Agent App {++n}"));
        }

        ws.Apps.AddRange(agents);
        ws.Apps.Add(AgentWorkflowApp($"Agent Workflow {++n}", agents.FirstOrDefault()));
        for (var i = 0; i < _o.PipelineDatasets; i++)
        {
            ws.Datasets.Add(PipelineDataset($"Knowledge Base {++n}"));
        }

        // A classic knowledge base (file upload, no pipeline): listed, never read.
        ws.Datasets.Add(new SimDataset { Id = NewId(), Name = $"Classic Knowledge {++n}", RuntimeMode = "general", CreatedAt = AppCreatedAt() });
    }

    /// <summary>
    /// An agent app: production conversations from end users and Explore, Studio debugger conversations
    /// (never counted), and messages before the usage fix stored with 0 tokens (reported, not counted).
    /// </summary>
    private SimApp AgentApp(string name)
    {
        var app = new SimApp { Id = NewId(), Name = name, Mode = "agent", AgentId = NewId(), CreatedAt = AppCreatedAt() };
        for (var c = 0; c < _o.ConversationsPerApp + 2; c++)
        {
            var debug = c >= _o.ConversationsPerApp;
            var actor = debug ? SimActor.Of(Pick(_accounts)) : RandomActor(0.2);
            var conv = new SimConversation { Id = NewId(), Name = $"{name} conversation {c + 1}", From = actor, IsDebugger = debug };
            var count = _rng.Next(1, _o.MaxMessagesPerConversation + 1);
            var t = RandomInstant(TimeSpan.FromHours(2));
            for (var m = 0; m < count && t < _o.End; m++)
            {
                conv.Messages.Add(AgentMessage(t));
                t = NextMessageTime(t);
            }

            Link(conv);
            app.Conversations.Add(conv);
        }

        return app;
    }

    private SimMessage AgentMessage(DateTimeOffset at)
    {
        if (at < _o.AgentUsageRecordedFrom)
        {
            // Dify before PR #38270: the agent runtime's usage was never written to the message.
            return new SimMessage { Id = NewId(), CreatedAt = at, MessageTokens = 0, AnswerTokens = 0, Usage = null };
        }

        var (p, c) = RandomTokens();
        var usage = SimUsage.Priced(p, c, Pick(ModelCatalog.All), RandomPriceFormat());
        return new SimMessage { Id = NewId(), CreatedAt = at, MessageTokens = p, AnswerTokens = c, Usage = usage };
    }

    /// <summary>
    /// A workflow whose agent nodes report usage only nested (PR #39354), bound to an agent app (so the
    /// agent's monitoring log lists them as workflow rows: counted here, never from the agent log), with
    /// trigger-started runs (webhook, schedule, plugin) that Dify's workflow statistics leave out.
    /// </summary>
    private SimApp AgentWorkflowApp(string name, SimApp? boundAgent)
    {
        var app = new SimApp { Id = NewId(), Name = name, Mode = "workflow", CreatedAt = AppCreatedAt() };
        var main = Pick(AppModels);
        string[] kinds = ["app-run", "webhook", "schedule", "plugin", "app-run"];
        for (var r = 0; r < _o.RunsPerWorkflowApp + _o.DebugRunsPerApp; r++)
        {
            var triggeredFrom = r >= _o.RunsPerWorkflowApp ? "debugging" : kinds[r % kinds.Length];
            var at = RandomInstant(TimeSpan.FromMinutes(5));
            var creator = triggeredFrom == "debugging" ? SimActor.Of(Pick(_accounts)) : SimActor.Of(Pick(_endUsers));
            var (_, heldNodes, nodeSource) = SeededNodes(() =>
            {
                var nodes = new List<SimNode> { Plain("start", "Start"), Llm(main), NestedAgent(boundAgent?.Id) };
                if (Chance(0.3))
                {
                    nodes.Add(NestedAgent(boundAgent?.Id));
                }

                nodes.Add(Plain("end", "End"));
                return nodes;
            });
            app.Runs.Add(new SimWorkflowRun
            {
                Id = NewId(),
                TriggeredFrom = triggeredFrom,
                CreatedAt = at,
                FinishedAt = at.AddSeconds(_rng.Next(1, 120)),
                CreatedBy = creator,
                // Trigger-started runs are written to the app log as service-api runs (api/tasks/async_workflow_tasks.py).
                CreatedFrom = triggeredFrom == "debugging" ? "installed-app" : "service-api",
                Nodes = heldNodes,
                NodeSource = nodeSource,
                LogId = NewId(),
            });
        }

        return app;
    }

    /// <summary>An agent node of the Agent runtime: total and completion tokens nested, no top-level totals.</summary>
    private SimNode NestedAgent(Guid? boundAgentAppId)
    {
        var (p, c) = RandomTokens();
        return new SimNode
        {
            Id = NewId(),
            NodeId = NextNodeId(),
            NodeType = "agent",
            Title = "Agent",
            Shape = SimNodeUsageShape.AgentNested,
            Usage = SimUsage.Priced(p, c, Pick(ModelCatalog.All), RandomPriceFormat()),
            BoundAgentAppId = boundAgentAppId,
        };
    }

    /// <summary>A knowledge base with a pipeline: production runs (counted) and preview runs (never counted).</summary>
    private SimDataset PipelineDataset(string name)
    {
        var pipeline = new SimApp { Id = NewId(), Name = name, Mode = "rag-pipeline", CreatedAt = AppCreatedAt() };
        var model = Pick(AppModels);
        for (var r = 0; r < _o.RunsPerWorkflowApp; r++)
        {
            var preview = r % 4 == 3;
            var at = RandomInstant(TimeSpan.FromMinutes(5));
            var (_, heldNodes, nodeSource) = SeededNodes(() => Chance(0.15)
                ? [Plain("datasource", "File Upload"), Plain("knowledge-index", "Knowledge Base")]
                : [Plain("datasource", "File Upload"), Llm(model), Plain("knowledge-index", "Knowledge Base")]);
            pipeline.Runs.Add(new SimWorkflowRun
            {
                Id = NewId(),
                TriggeredFrom = preview ? "rag-pipeline-debugging" : "rag-pipeline-run",
                CreatedAt = at,
                FinishedAt = at.AddSeconds(_rng.Next(1, 300)),
                CreatedBy = SimActor.Of(Pick(_accounts)),
                CreatedFrom = "installed-app",
                Nodes = heldNodes,
                NodeSource = nodeSource,
            });
        }

        return new SimDataset { Id = NewId(), Name = name, RuntimeMode = "rag_pipeline", Pipeline = pipeline, CreatedAt = pipeline.CreatedAt };
    }
}
