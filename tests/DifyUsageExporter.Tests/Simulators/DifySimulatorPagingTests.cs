using System.Net;
using System.Text.Json.Nodes;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Simulators;

public sealed class DifySimulatorPagingTests
{
    private static readonly DateTimeOffset Base = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly SimActor User = SimActor.Of(new SimEndUser(Guid.NewGuid(), "service_api", false, "u1"));

    private static async Task<(DifySimulator Sim, SimSession Session)> StartAsync(SimWorkspace ws, DifySimulatorOptions? o = null)
    {
        var sim = await SimSession.StartAsync(new DifySimulatorOptions
        {
            AuthMode = DifyAuthMode.Legacy,
            Workspace = ws,
            AccountRole = o?.AccountRole ?? "owner",
            SupportsTriggeredFromFilter = o?.SupportsTriggeredFromFilter ?? false,
            AccountTimeZone = o?.AccountTimeZone ?? "Asia/Tokyo",
        });
        var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();
        return (sim, s);
    }

    private static List<string> Ids(JsonNode page) => [.. page["data"]!.AsArray().Select(x => x!["id"]!.GetValue<string>())];

    [Fact]
    public async Task Apps_page_limit_order_mode_filter_and_hidden_archived()
    {
        var ws = new SimWorkspace();
        for (var i = 0; i < 25; i++)
        {
            ws.Apps.Add(new SimApp { Mode = i % 2 == 0 ? "chat" : "workflow", Name = $"A{i}", CreatedAt = Base.AddHours(i) });
        }

        ws.Apps.Add(new SimApp { Mode = "chat", Name = "archived", Archived = true, CreatedAt = Base.AddDays(9) });
        var (sim, s) = await StartAsync(ws);
        await using var _ = sim;
        using var __ = s;

        var p1 = await s.GetOkAsync("apps?page=1&limit=10");
        p1["total"]!.GetValue<int>().ShouldBe(25);
        p1["has_more"]!.GetValue<bool>().ShouldBeTrue();
        p1["data"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()).First().ShouldBe("A24"); // created_at DESC
        var p3 = await s.GetOkAsync("apps?page=3&limit=10");
        p3["data"]!.AsArray().Count.ShouldBe(5);
        p3["has_more"]!.GetValue<bool>().ShouldBeFalse();
        (await s.GetOkAsync("apps?mode=workflow&limit=100"))["total"]!.GetValue<int>().ShouldBe(12);
        (await s.GetOkAsync("apps?limit=100"))["data"]!.ToJsonString().ShouldNotContain("archived");

        foreach (var bad in new[] { "limit=101", "limit=0", "limit=abc", "page=0" })
        {
            var (status, body) = await s.GetAsync("apps?" + bad);
            status.ShouldBe(HttpStatusCode.BadRequest);
            body!["code"]!.GetValue<string>().ShouldBe("invalid_param");
        }
    }

    [Fact]
    public async Task App_detail_model_config_and_404s()
    {
        var chat = new SimApp { Mode = "chat", Model = ModelCatalog.GeminiFlash };
        var flow = new SimApp { Mode = "workflow" };
        var archived = new SimApp { Mode = "chat", Archived = true };
        var (sim, s) = await StartAsync(new SimWorkspace { Apps = [chat, flow, archived] });
        await using var _ = sim;
        using var __ = s;

        var detail = await s.GetOkAsync($"apps/{chat.Id}");
        detail["model_config"]!["model"]!["provider"]!.GetValue<string>().ShouldBe("langgenius/gemini/google");
        (await s.GetOkAsync($"apps/{flow.Id}"))["model_config"].ShouldBeNull();
        var (st1, b1) = await s.GetAsync($"apps/{archived.Id}");
        st1.ShouldBe(HttpStatusCode.NotFound);
        b1!["code"]!.GetValue<string>().ShouldBe("app_not_found");
        var (st2, b2) = await s.GetAsync("apps/not-a-uuid");
        st2.ShouldBe(HttpStatusCode.NotFound);
        b2!["code"]!.GetValue<string>().ShouldBe("not_found");
        var (st3, b3) = await s.GetAsync($"apps/{flow.Id}/chat-conversations");
        st3.ShouldBe(HttpStatusCode.NotFound);
        b3!["message"]!.GetValue<string>().ShouldStartWith("App mode is not in the supported list");
    }

    [Fact]
    public async Task Chat_conversations_ignore_last_id_and_messages_page_backwards()
    {
        var conv = new SimConversation { From = User };
        for (var i = 0; i < 7; i++)
        {
            conv.Messages.Add(new SimMessage { CreatedAt = Base.AddMinutes(i), Query = $"q{i}" });
        }

        var others = Enumerable.Range(0, 4).Select(i => new SimConversation { From = User, Messages = [new SimMessage { CreatedAt = Base.AddHours(i + 1) }] });
        var app = new SimApp { Mode = "chat", Conversations = [conv, .. others] };
        var completion = new SimApp { Mode = "completion" };
        var (sim, s) = await StartAsync(new SimWorkspace { Apps = [app, completion] });
        await using var _ = sim;
        using var __ = s;

        var page1 = await s.GetOkAsync($"apps/{app.Id}/chat-conversations?limit=2");
        var again = await s.GetOkAsync($"apps/{app.Id}/chat-conversations?limit=2&last_id={Ids(page1)[1]}");
        Ids(again).ShouldBe(Ids(page1));
        var page3 = await s.GetOkAsync($"apps/{app.Id}/chat-conversations?limit=2&page=3");
        Ids(page3).ShouldBe([conv.Id.ToString()]); // default -updated_at: the oldest conversation last

        var seen = new List<string>();
        string? first = null;
        var pages = 0;
        while (true)
        {
            var page = await s.GetOkAsync($"apps/{app.Id}/chat-messages?conversation_id={conv.Id}&limit=3" + (first is null ? string.Empty : $"&first_id={first}"));
            var queries = page["data"]!.AsArray().Select(m => m!["query"]!.GetValue<string>()).ToList();
            seen.InsertRange(0, queries);
            pages++;
            if (!page["has_more"]!.GetValue<bool>())
            {
                break;
            }

            first = page["data"]![0]!["id"]!.GetValue<string>();
        }

        pages.ShouldBe(3);
        seen.ShouldBe(["q0", "q1", "q2", "q3", "q4", "q5", "q6"]);

        var (st1, b1) = await s.GetAsync($"apps/{app.Id}/chat-messages?conversation_id={conv.Id}&first_id={Guid.NewGuid()}");
        st1.ShouldBe(HttpStatusCode.NotFound);
        b1!["message"]!.GetValue<string>().ShouldBe("First message not found");
        (await s.GetAsync($"apps/{app.Id}/chat-messages?conversation_id={Guid.NewGuid()}")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await s.GetAsync($"apps/{app.Id}/chat-messages")).Status.ShouldBe(HttpStatusCode.BadRequest);
        (await s.GetAsync($"apps/{completion.Id}/chat-messages?conversation_id={conv.Id}")).Status.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Has_more_is_false_when_the_last_page_is_exactly_full()
    {
        var conv = new SimConversation { From = User, Messages = [.. Enumerable.Range(0, 6).Select(i => new SimMessage { CreatedAt = Base.AddMinutes(i) })] };
        var app = new SimApp { Mode = "advanced-chat", Conversations = [conv] };
        var (sim, s) = await StartAsync(new SimWorkspace { Apps = [app] });
        await using var _ = sim;
        using var __ = s;
        var p1 = await s.GetOkAsync($"apps/{app.Id}/chat-messages?conversation_id={conv.Id}&limit=3");
        p1["has_more"]!.GetValue<bool>().ShouldBeTrue();
        var p2 = await s.GetOkAsync($"apps/{app.Id}/chat-messages?conversation_id={conv.Id}&limit=3&first_id={p1["data"]![0]!["id"]}");
        p2["data"]!.AsArray().Count.ShouldBe(3);
        p2["has_more"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task Workflow_runs_list_debug_runs_with_a_cursor_and_app_logs_list_production_runs()
    {
        var account = SimActor.Of(new SimAccount(Guid.NewGuid(), "Dev", "dev@example.com"));
        var app = new SimApp { Mode = "workflow" };
        for (var i = 0; i < 5; i++)
        {
            app.Runs.Add(new SimWorkflowRun { TriggeredFrom = "debugging", CreatedBy = account, CreatedAt = Base.AddMinutes(i) });
            app.Runs.Add(new SimWorkflowRun { TriggeredFrom = "app-run", CreatedBy = User, CreatedAt = Base.AddHours(i) });
        }

        var (sim, s) = await StartAsync(new SimWorkspace { Apps = [app] });
        await using var _ = sim;
        using var __ = s;

        var p1 = await s.GetOkAsync($"apps/{app.Id}/workflow-runs?limit=3&triggered_from=app-run"); // 1.9.x ignores the parameter
        p1["has_more"]!.GetValue<bool>().ShouldBeTrue();
        var p2 = await s.GetOkAsync($"apps/{app.Id}/workflow-runs?limit=3&last_id={Ids(p1)[^1]}");
        p2["has_more"]!.GetValue<bool>().ShouldBeFalse();
        Ids(p1).Concat(Ids(p2)).ShouldBe(app.Runs.Where(r => r.TriggeredFrom == "debugging").OrderByDescending(r => r.CreatedAt).Select(r => r.Id.ToString()));
        var (st, body) = await s.GetAsync($"apps/{app.Id}/workflow-runs?last_id={Guid.NewGuid()}");
        st.ShouldBe(HttpStatusCode.BadRequest);
        body!["message"]!.GetValue<string>().ShouldBe("Last workflow run not exists");

        var logs = await s.GetOkAsync($"apps/{app.Id}/workflow-app-logs?page=1&limit=2&created_at__after=2026-03-01T01:00:00Z&created_at__before=2026-03-01T03:00:00%2B00:00");
        logs["total"]!.GetValue<int>().ShouldBe(3);
        logs["has_more"]!.GetValue<bool>().ShouldBeTrue();
        logs["data"]![0]!["workflow_run"]!["created_at"]!.GetValue<long>().ShouldBe(Base.AddHours(3).ToUnixTimeSeconds());
        (await s.GetAsync($"apps/{app.Id}/workflow-app-logs?created_at__after=yesterday")).Status.ShouldBe(HttpStatusCode.BadRequest);

        var nodes = await s.GetOkAsync($"apps/{app.Id}/workflow-runs/{Guid.NewGuid()}/node-executions");
        nodes["data"]!.AsArray().Count.ShouldBe(0);
        (await s.GetAsync($"apps/{app.Id}/workflow-runs/{Guid.NewGuid()}")).Status.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Triggered_from_is_honoured_on_new_versions_and_normal_members_cannot_read_conversations()
    {
        var app = new SimApp { Mode = "workflow", Runs = [new SimWorkflowRun { CreatedBy = User, CreatedAt = Base }] };
        var chat = new SimApp { Mode = "chat" };
        var (sim, s) = await StartAsync(new SimWorkspace { Apps = [app, chat] }, new DifySimulatorOptions { SupportsTriggeredFromFilter = true, AccountRole = "normal" });
        await using var _ = sim;
        using var __ = s;
        (await s.GetOkAsync($"apps/{app.Id}/workflow-runs"))["data"]!.AsArray().Count.ShouldBe(0);
        var prod = await s.GetOkAsync($"apps/{app.Id}/workflow-runs?triggered_from=app-run");
        prod["data"]![0]!["triggered_from"]!.GetValue<string>().ShouldBe("app-run");
        (await s.GetAsync($"apps/{chat.Id}/chat-conversations")).Status.ShouldBe(HttpStatusCode.Forbidden);
    }
}
