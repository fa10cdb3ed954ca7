using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Simulators;

public sealed class GroundTruthTests
{
    private static readonly SimModelRef Mini = new("langgenius/openai/openai", "gpt-4o-mini", "openai", "gpt-4o-mini", 0.15m, 0.6m);
    private static readonly SimModelRef Gemini = new("google", "gemini-2.0-flash", "google", "gemini-2.0-flash", 0.1m, 0.4m);
    private static readonly SimModelRef Haiku = new("langgenius/anthropic/anthropic", "claude-3-5-haiku-20241022", "anthropic", "claude-3-5-haiku-20241022", 0.8m, 4m);
    private static readonly SimEndUser U1 = new(Guid.NewGuid(), "service_api", false, "u1");
    private static readonly SimEndUser U2 = new(Guid.NewGuid(), "browser", true, "anon");
    private static readonly SimAccount A = new(Guid.NewGuid(), "Ops", "ops@example.com");
    private static readonly TimeZoneInfo Tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");

    private static DateTimeOffset Utc(int day, int hour, int minute, int second = 0) => new(2026, 3, day, hour, minute, second, TimeSpan.Zero);

    private static SimNode Node(string type, SimNodeUsageShape shape, SimUsage? usage, SimModelRef? model = null, string? parent = null)
        => new() { NodeType = type, Shape = shape, Usage = usage, Model = model, ParentContainerNodeId = parent, ParentContainerType = parent is null ? null : "iteration" };

    /// <summary>A small workspace whose expected numbers are worked out by hand below.</summary>
    private static SimWorkspace HandBuilt()
    {
        var chat = new SimApp
        {
            Mode = "chat",
            Name = "chat",
            Model = Mini,
            Conversations =
            [
                new SimConversation
                {
                    From = SimActor.Of(U1),
                    Messages =
                    [
                        new SimMessage { CreatedAt = Utc(7, 14, 59, 30), Usage = SimUsage.Priced(1000, 200, Mini, SimPriceFormat.Exponent) },
                        new SimMessage { CreatedAt = Utc(7, 15, 0, 10), MessageTokens = 50, AnswerTokens = 7 }, // no metadata.usage
                        new SimMessage { CreatedAt = Utc(7, 15, 1, 0), Usage = SimUsage.Priced(0, 0, Mini), Status = "error" }, // not an event
                    ],
                },
            ],
        };

        var child = Node("llm", SimNodeUsageShape.ProcessData, SimUsage.Priced(100, 10, Gemini), Gemini, parent: "it1");
        var run = new SimWorkflowRun
        {
            CreatedBy = SimActor.Of(A),
            CreatedAt = Utc(8, 6, 30),
            Nodes =
            [
                Node("start", SimNodeUsageShape.None, null),
                Node("llm", SimNodeUsageShape.ProcessData, SimUsage.Priced(300, 100, Mini), Mini),
                Node("agent", SimNodeUsageShape.OutputsOnly, SimUsage.Priced(10, 5, Mini)),
                Node("agent", SimNodeUsageShape.MetadataOnly, SimUsage.Priced(40, 0, Mini)),
                new SimNode { NodeId = "it1", NodeType = "iteration", Shape = SimNodeUsageShape.Container, Usage = child.Usage },
                child,
                Node("llm", SimNodeUsageShape.ProcessData, SimUsage.Priced(0, 0, Mini), Mini), // zero → not an event
            ],
        };
        var debugRun = new SimWorkflowRun { TriggeredFrom = "debugging", CreatedBy = SimActor.Of(A), CreatedAt = Utc(8, 6, 0), Nodes = [Node("llm", SimNodeUsageShape.ProcessData, SimUsage.Priced(9999, 9999, Mini), Mini)] };
        var advanced = new SimApp
        {
            Mode = "advanced-chat",
            Name = "advanced",
            Runs = [run, debugRun],
            Conversations =
            [
                new SimConversation
                {
                    From = SimActor.Of(A),
                    Messages =
                    [
                        new SimMessage { CreatedAt = Utc(8, 6, 30), WorkflowRunId = run.Id, Usage = SimUsage.Priced(1, 1, Mini) }, // nodes win
                        new SimMessage { CreatedAt = Utc(8, 7, 0), Usage = SimUsage.Priced(20, 2, Mini) }, // no run → message fallback
                    ],
                },
                new SimConversation { From = SimActor.Of(A), IsDebugger = true, Messages = [new SimMessage { CreatedAt = Utc(8, 6, 0), WorkflowRunId = debugRun.Id, Usage = SimUsage.Priced(5, 5, Mini) }] },
            ],
        };

        var workflow = new SimApp
        {
            Mode = "workflow",
            Name = "workflow",
            Runs =
            [
                new SimWorkflowRun
                {
                    CreatedBy = SimActor.Of(U2),
                    CreatedAt = Utc(8, 15, 10),
                    LogCreatedAtOverride = Utc(8, 15, 12),
                    Status = "failed",
                    Nodes = [Node("llm", SimNodeUsageShape.ProcessData, SimUsage.Priced(1000, 100, Haiku, SimPriceFormat.Number), Haiku), Node("llm", SimNodeUsageShape.None, null)],
                },
                new SimWorkflowRun { TriggeredFrom = "debugging", CreatedBy = SimActor.Of(A), CreatedAt = Utc(8, 15, 0), Nodes = [Node("llm", SimNodeUsageShape.ProcessData, SimUsage.Priced(7, 7, Haiku), Haiku)] },
            ],
        };
        var archived = new SimApp { Mode = "chat", Archived = true, Model = Mini, Conversations = [new SimConversation { From = SimActor.Of(U1), Messages = [new SimMessage { CreatedAt = Utc(8, 1, 0), Usage = SimUsage.Priced(5, 5, Mini) }] }] };
        var unknownMode = new SimApp { Mode = "agent" };
        return new SimWorkspace { Apps = [chat, advanced, workflow, archived, unknownMode] };
    }

    [Fact]
    public void Truth_of_a_hand_built_workspace_by_tokyo_day_and_model()
    {
        var truth = GroundTruth.Compute(HandBuilt());
        var rows = truth.ByDayProviderModel(Tokyo, new DateOnly(2026, 3, 1), new DateOnly(2026, 3, 31));

        // 03-07 (Tokyo): chat message 1 at 23:59:30 local: 1000×0.15e-6 + 200×0.6e-6 = 0.00027.
        // 03-08: chat message 2 at 00:00:10 local (tokens only, cost 0); advanced-chat nodes at 15:30 local:
        //   llm 300/100 = 0.000045 + 0.00006; iteration child on bare "google" 100/10 = 0.00001 + 0.000004;
        //   unknown: agent outputs 10/5 (0.0000015 + 0.000003), agent metadata 40→input (0.000006), fallback 20/2 (0.000003 + 0.0000012).
        // 03-09: workflow run at 00:10 local (log at 00:12), failed, haiku 1000/100 = 0.0008 + 0.0004.
        rows.ShouldBe(
        [
            new TruthDayModelRow(new DateOnly(2026, 3, 7), "openai", "gpt-4o-mini", 1000, 200, 1, 0.00027m),
            new TruthDayModelRow(new DateOnly(2026, 3, 8), "google", "gemini-2.0-flash", 100, 10, 1, 0.000014m),
            new TruthDayModelRow(new DateOnly(2026, 3, 8), "openai", "gpt-4o-mini", 350, 107, 2, 0.000105m),
            new TruthDayModelRow(new DateOnly(2026, 3, 8), "unknown", "unknown", 70, 7, 3, 0.0000147m),
            new TruthDayModelRow(new DateOnly(2026, 3, 9), "anthropic", "claude-3-5-haiku-20241022", 1000, 100, 1, 0.0012m),
        ]);
        truth.Totals(Tokyo, new DateOnly(2026, 3, 8), new DateOnly(2026, 3, 8)).ShouldBe(new TruthTotals(520, 124, 6, 0.0001337m));
    }

    [Fact]
    public void Truth_by_utc_day_by_user_and_by_app()
    {
        var truth = GroundTruth.Compute(HandBuilt());
        var day = new DateOnly(2026, 3, 7);
        truth.Totals(TimeZoneInfo.Utc, day, day).ShouldBe(new TruthTotals(1050, 207, 2, 0.00027m));

        var users = truth.ByDayUser(TimeZoneInfo.Utc, new DateOnly(2026, 3, 8), new DateOnly(2026, 3, 8));
        users.Single(u => u.UserId == A.Id.ToString()).ShouldBe(new TruthDayUserRow(new DateOnly(2026, 3, 8), A.Id.ToString(), "account", 470, 117, 5, 0.0001337m));
        users.Single(u => u.UserId == U2.Id.ToString()).ShouldBe(new TruthDayUserRow(new DateOnly(2026, 3, 8), U2.Id.ToString(), "end_user", 1000, 100, 1, 0.0012m));

        var apps = truth.ByDayApp(Tokyo, new DateOnly(2026, 3, 1), new DateOnly(2026, 3, 31));
        apps.Select(a => (a.Date.Day, a.AppName, a.RequestCount)).ShouldBe([(7, "chat", 1), (8, "advanced", 5), (8, "chat", 1), (9, "workflow", 1)], ignoreOrder: true);
        truth.Events.Where(e => e.Source == "message-fallback").Single().InputTokens.ShouldBe(20);
    }

    [Fact]
    public void Generator_is_deterministic_and_covers_every_shape()
    {
        var a = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 42 });
        var b = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 42 });
        var c = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 43 });
        var ta = GroundTruth.Compute(a);
        ta.Events.Select(e => e.EventId).ShouldBe(GroundTruth.Compute(b).Events.Select(e => e.EventId));
        ta.Totals().ShouldBe(GroundTruth.Compute(b).Totals());
        ta.Totals().ShouldNotBe(GroundTruth.Compute(c).Totals());

        var nodes = a.Apps.SelectMany(x => x.Runs).SelectMany(r => r.Nodes).ToList();
        foreach (var shape in Enum.GetValues<SimNodeUsageShape>().Where(s => s != SimNodeUsageShape.AgentNested))
        {
            nodes.ShouldContain(n => n.Shape == shape, $"shape {shape}");
        }

        a.Apps.Select(x => x.ReportedMode).Distinct().Order().ShouldBe(["advanced-chat", "agent", "agent-chat", "channel", "chat", "completion", "rag-pipeline", "workflow"]);
        ta.Events.Select(e => e.Source).Distinct().Order().ShouldBe(["message", "message-fallback", "node"]);
        ta.Events.ShouldContain(e => e.Provider == "unknown");
        ta.Events.ShouldAllBe(e => e.InputTokens + e.OutputTokens > 0 || e.Cost > 0);
    }

    [Fact]
    public void The_1_17_profile_adds_every_current_kind_with_its_traps()
    {
        var options = GeneratorOptions.ForVersion("1.17.1", 42);
        options.CurrentDifyKinds.ShouldBeTrue();
        GeneratorOptions.ForVersion("1.11.1").CurrentDifyKinds.ShouldBeFalse();
        var ws = WorkspaceGenerator.Generate(options);
        var truth = GroundTruth.Compute(ws);
        truth.Events.Select(e => e.AppMode).Distinct().Order().ShouldBe(["advanced-chat", "agent", "agent-chat", "chat", "completion", "rag-pipeline", "workflow"]);
        truth.Events.Select(e => e.Source).Distinct().Order().ShouldBe(["agent-message", "message", "message-fallback", "node"]);

        var nested = ws.Apps.SelectMany(a => a.Runs).SelectMany(r => r.Nodes).Where(n => n.Shape == SimNodeUsageShape.AgentNested).ToList();
        nested.ShouldNotBeEmpty();
        nested.ShouldContain(n => n.BoundAgentAppId != null);
        var byId = truth.Events.ToDictionary(e => e.EventId);
        foreach (var node in nested.Where(n => byId.ContainsKey(n.Id.ToString())))
        {
            var e = byId[node.Id.ToString()];
            (e.InputTokens, e.OutputTokens).ShouldBe((node.Usage!.TotalTokens - node.Usage.CompletionTokens, node.Usage.CompletionTokens));
        }

        ws.Apps.SelectMany(a => a.Runs).Select(r => r.TriggeredFrom).Distinct().Order().ShouldBe(["app-run", "debugging", "plugin", "schedule", "webhook"]);
        var pipelineRuns = ws.Datasets.Select(d => d.Pipeline).OfType<SimApp>().SelectMany(p => p.Runs).ToList();
        pipelineRuns.Select(r => r.TriggeredFrom).Distinct().Order().ShouldBe(["rag-pipeline-debugging", "rag-pipeline-run"]);
        pipelineRuns.Where(r => r.TriggeredFrom == "rag-pipeline-debugging").SelectMany(r => r.Nodes).ShouldAllBe(n => !byId.ContainsKey(n.Id.ToString()));
        ws.Datasets.ShouldContain(d => d.Pipeline == null && d.RuntimeMode == "general");

        // Agent messages before the fix have no usage: no events, but counted per app and day.
        var zero = GroundTruth.ZeroUsageAgentMessages(ws, TimeZoneInfo.Utc);
        zero.ShouldNotBeEmpty();
        zero.ShouldAllBe(z => z.Date < new DateOnly(2026, 7, 1));
        truth.Events.Where(e => e.AppMode == "agent").ShouldAllBe(e => e.OccurredAt >= options.AgentUsageRecordedFrom);
        ws.Apps.Where(a => a.Mode == "agent").SelectMany(a => a.Conversations).ShouldContain(c => c.IsDebugger);
    }
}
