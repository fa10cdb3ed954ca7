using System.Text.Json.Nodes;
using DifyUsageExporter.Tests.Dify;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Simulators;

/// <summary>
/// The simulator's request lower bound, counted by hand on a small workspace, and the exporter's
/// requests against it: extracting everything costs exactly the bound, no request more.
/// </summary>
public sealed class RequestLowerBoundTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SimConversation Conversation(SimActor user, DateTimeOffset start, int messages, bool runs = false, bool debugger = false) => new()
    {
        From = user,
        IsDebugger = debugger,
        Messages = [.. Enumerable.Range(0, messages).Select(i => new SimMessage
        {
            CreatedAt = start.AddMinutes(i),
            MessageTokens = 10,
            AnswerTokens = 5,
            Usage = SimUsage.Priced(10, 5, ModelCatalog.OpenAiMini),
            WorkflowRunId = runs ? Guid.NewGuid() : null,
        })],
    };

    [Fact]
    public async Task The_bound_counts_every_page_and_per_item_call_and_the_exporter_needs_exactly_that()
    {
        var user = SimActor.Of(new SimEndUser(Guid.NewGuid(), "service_api", false, "u1"));
        var t = new DateTimeOffset(2026, 3, 3, 1, 0, 0, TimeSpan.Zero);
        var chat = new SimApp { Mode = "chat", Model = ModelCatalog.OpenAiMini, Conversations = [Conversation(user, t, 1), Conversation(user, t, 150)] };
        var completion = new SimApp { Mode = "completion", Model = ModelCatalog.Haiku, Conversations = [Conversation(user, t, 1), Conversation(user, t.AddHours(1), 1), Conversation(user, t.AddHours(2), 1)] };
        var flow = new SimApp
        {
            Mode = "workflow",
            Runs = [.. Enumerable.Range(0, 2).Select(i => new SimWorkflowRun { CreatedAt = t.AddHours(i), CreatedBy = user })],
        };
        // Chatflow messages without node executions: each still costs its node-executions call.
        var chatflow = new SimApp { Mode = "advanced-chat", Conversations = [Conversation(user, t, 2, runs: true), Conversation(user, t, 1, runs: true, debugger: true)] };
        var other = new SimApp { Mode = "channel" };
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = new SimWorkspace { Apps = [chat, completion, flow, chatflow, other] } }, Ct);

        // login 1, profile 1, app pages 1; conversation pages: chat 1, completion 1, chatflow 1 (the
        // debugger one is hidden); message pages: 1 + 2 (150 messages) + 1; completion details 3;
        // app-log pages 1; node-executions: 2 runs + 2 chatflow messages; the agent list and the
        // knowledge-base list (always read; here empty).
        sim.LowerBound.ShouldBe(new RequestLowerBound(1, 1, 1, 3, 4, 3, 1, 4, 2));
        sim.LowerBound.Total.ShouldBe(20);

        using var run = new SimHarness(sim);
        var day = new DateOnly(2026, 3, 3);
        (await run.ExtractAsync(day.AddDays(-1), day.AddDays(1))).Failures.ShouldBeEmpty();
        SimHarness.Compare(await run.EventsAsync(day.AddDays(-1), day.AddDays(1)), sim.Truth.EventsIn(sim.AccountZone, day.AddDays(-1), day.AddDays(1)), sim.AccountZone).ShouldBeEmpty();
        // Exactly the bound, plus the one version probe before login that picks the password
        // encoding (DIFY_PASSWORD_ENCODING=auto); no app detail, no second profile read.
        sim.Counters.TotalRequests.ShouldBe(sim.LowerBound.Total + 1, string.Join(", ", sim.Counters.ByPath.Select(kv => $"{kv.Key}={kv.Value}")));
        sim.Counters.ByPath["GET /console/api/system-features"].ShouldBe(1);

        // The same figures over HTTP, for benchmarks in another process; /_sim calls are not counted.
        using var http = new HttpClient { BaseAddress = sim.BaseUrl };
        var stats = (await http.GetFromJsonAsync<JsonObject>("_sim/stats", Ct))!;
        ((int)stats["lower_bound"]!).ShouldBe(20);
        ((int)stats["requests_served"]!).ShouldBe(21);
        ((int)stats["events"]!).ShouldBe(sim.Truth.Events.Count);
        (await http.PostAsync("_sim/reset", null, Ct)).EnsureSuccessStatusCode();
        ((int)(await http.GetFromJsonAsync<JsonObject>("_sim/stats", Ct))!["requests_served"]!).ShouldBe(0);
        var truth = (await http.GetFromJsonAsync<JsonObject>("_sim/truth", Ct))!["rows"]!.AsArray();
        truth.Sum(r => (long)r!["request_count"]!).ShouldBe(sim.Truth.Events.Count);
    }

    [Fact]
    public async Task The_in_flight_timeline_tells_sequential_requests_from_parallel_ones()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { Latency = TimeSpan.FromMilliseconds(200) }, Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseUrl };
        async Task<JsonObject> StatsAsync() => (await http.GetFromJsonAsync<JsonObject>("_sim/stats", Ct))!;

        // One at a time: every busy moment has exactly one request in flight.
        for (var i = 0; i < 3; i++)
        {
            using var _ = await http.GetAsync(new Uri("console/api/system-features", UriKind.Relative), Ct);
        }

        var sequential = await StatsAsync();
        ((double)sequential["mean_in_flight"]!).ShouldBe(1.0);
        // 3 × 200 ms; the simulator's delay can end a fraction of a millisecond early (a CI run saw 0.599).
        ((double)sequential["busy_seconds"]!).ShouldBeGreaterThanOrEqualTo(0.59);
        ((double)sequential["seconds_at_16_or_more"]!).ShouldBe(0.0);

        // Sixteen at once: they overlap, so the busy time is far below 16 x 200 ms and more than one
        // request is in flight on average (a server that served them one by one would show 3.2 s and 1.0).
        (await http.PostAsync(new Uri("_sim/reset", UriKind.Relative), null, Ct)).EnsureSuccessStatusCode();
        ((double)(await StatsAsync())["busy_seconds"]!).ShouldBe(0.0);
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            using var response = await http.GetAsync(new Uri("console/api/system-features", UriKind.Relative), Ct);
        }));
        var parallel = await StatsAsync();
        ((double)parallel["mean_in_flight"]!).ShouldBeGreaterThan(1.0);
        ((double)parallel["busy_seconds"]!).ShouldBeLessThan(16 * 0.2);
        ((int)parallel["max_concurrent_requests"]!).ShouldBeGreaterThan(1);
    }
}
