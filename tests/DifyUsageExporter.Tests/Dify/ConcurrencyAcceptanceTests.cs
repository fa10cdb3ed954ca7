using System.Text.RegularExpressions;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>
/// The adaptive concurrency and the request plan against the real simulator: overload answers
/// lower the limit, a healthy Dify lets it grow to the ceiling, a chatflow conversation's node calls
/// run side by side, no request the API does not need. Totals always equal the generator's truth.
/// </summary>
public partial class ConcurrencyAcceptanceTests
{
    private static readonly DateOnly From = new(2026, 3, 2);
    private static readonly DateOnly To = new(2026, 3, 13);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex("^GET /console/api/apps/[0-9a-fA-F-]{36}$")]
    private static partial Regex AppDetail();

    [Fact]
    public async Task Overload_answers_lower_the_limit_and_the_totals_still_equal_the_truth()
    {
        var workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 61, RunsPerWorkflowApp = 40 });
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = workspace }, Ct);
        sim.Faults.FailNext("/node-executions", DifyFaultKind.TooManyRequests, times: 3);
        sim.Faults.FailNext("/chat-messages", DifyFaultKind.GatewayTimeoutHtml, times: 2);
        using var run = new SimHarness(sim, tweak: s => s with { DifyFetchConcurrency = 16, DifyFetchRetryCount = 4 });
        var report = await run.ExtractAsync(From, To);

        report.Failures.ShouldBeEmpty();
        SimHarness.Compare(await run.EventsAsync(From, To), sim.Truth.EventsIn(sim.AccountZone, From, To), sim.AccountZone).ShouldBeEmpty();
        var limits = run.Source.Client.Concurrency.Snapshot();
        limits.Decreases.ShouldBeGreaterThanOrEqualTo(1);
        limits.MinLimit.ShouldBeLessThan(8);
        report.Concurrency.ShouldNotBeNull().ShouldContain("back-offs");
        run.Logs.AllText.ShouldContain("Dify concurrency limit");
        sim.Counters.MaxConcurrentRequests.ShouldBeLessThanOrEqualTo(16);
    }

    [Fact]
    public async Task A_healthy_dify_lets_the_limit_grow_to_the_ceiling_and_never_beyond()
    {
        var workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 62, RunsPerWorkflowApp = 150 });
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = workspace, Latency = TimeSpan.FromMilliseconds(3) }, Ct);
        using var run = new SimHarness(sim, tweak: s => s with { DifyFetchConcurrency = 12 });
        var report = await run.ExtractAsync(From, To);

        report.Failures.ShouldBeEmpty();
        SimHarness.Compare(await run.EventsAsync(From, To), sim.Truth.EventsIn(sim.AccountZone, From, To), sim.AccountZone).ShouldBeEmpty();
        var limits = run.Source.Client.Concurrency.Snapshot();
        // It reached the ceiling and never passed it. (On a loaded test machine a latency spike may
        // also have made it back off for a while: that part depends on timing and is not asserted.)
        limits.MaxLimit.ShouldBe(12);
        limits.Ceiling.ShouldBe(12);
        sim.Counters.MaxConcurrentRequests.ShouldBeLessThanOrEqualTo(12);
        report.Concurrency.ShouldNotBeNull().ShouldContain("-12");
    }

    [Fact]
    public async Task The_node_calls_of_one_long_chatflow_conversation_run_in_parallel_and_store_the_same_events()
    {
        var workspace = WorkspaceGenerator.Generate(new GeneratorOptions
        {
            Seed = 63,
            ChatApps = 0,
            AgentChatApps = 0,
            CompletionApps = 0,
            WorkflowApps = 0,
            ArchivedApps = 0,
            UnknownModeApps = false,
            AdvancedChatApps = 1,
            ConversationsPerApp = 1,
            DebugRunsPerApp = 0,
            MaxMessagesPerConversation = 400,
            Start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
            End = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero),
        });
        var conversation = workspace.Apps.Single().Conversations.Single();
        var runs = conversation.Messages.Count(m => m.WorkflowRunId is not null);
        runs.ShouldBeGreaterThan(40, "precondition: one conversation with many chatflow runs");
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = workspace, Latency = TimeSpan.FromMilliseconds(10) }, Ct);
        using var run = new SimHarness(sim, tweak: s => s with { DifyFetchPageSize = 20 });
        var from = new DateOnly(2025, 12, 31);
        var to = new DateOnly(2026, 12, 1);
        var report = await run.ExtractAsync(from, to);

        report.Failures.ShouldBeEmpty();
        SimHarness.Compare(await run.EventsAsync(from, to), sim.Truth.EventsIn(sim.AccountZone, from, to), sim.AccountZone).ShouldBeEmpty();
        // One conversation, one app: only node calls of that conversation can overlap.
        sim.Counters.MaxConcurrentRequests.ShouldBeGreaterThan(2);
        sim.Counters.Requests("/node-executions").ShouldBe(runs);
    }

    [Fact]
    public async Task Chat_apps_take_their_model_from_the_app_list_and_the_profile_is_read_once()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 64 }) }, Ct);
        using var run = new SimHarness(sim);
        (await run.Source.ResolveTimeZoneAsync(Ct)).Id.ShouldBe(sim.Options.AccountTimeZone);
        var report = await run.ExtractAsync(From, To);

        report.Failures.ShouldBeEmpty();
        SimHarness.Compare(await run.EventsAsync(From, To), sim.Truth.EventsIn(sim.AccountZone, From, To), sim.AccountZone).ShouldBeEmpty();
        sim.Counters.ByPath.Keys.Where(k => AppDetail().IsMatch(k)).ShouldBeEmpty();
        sim.Counters.ByPath["GET /console/api/account/profile"].ShouldBe(1);

        // A later extraction without a fresh resolve reads the profile again (the zone may have changed).
        await run.ExtractAsync(From, To);
        sim.Counters.ByPath["GET /console/api/account/profile"].ShouldBe(2);
    }

    [Fact]
    public async Task The_app_detail_is_read_only_for_a_chat_app_whose_list_entry_lacks_model_config()
    {
        using var dir = new TempDir();
        var time = new FakeClock(new DateTimeOffset(2025, 11, 23, 0, 0, 0, TimeSpan.Zero), FakeTimers.Real);
        var fake = new FakeDify(time, FakeAuthMode.CookieBase64);
        var chatApps = fake.Apps.Where(a => (string?)a!["mode"] is "chat" or "agent-chat" or "completion").Select(a => (string)a!["id"]!).ToList();
        chatApps.Count.ShouldBeGreaterThan(1, "precondition: several chat-mode apps in the fixture");
        var bare = fake.Apps.First(a => (string?)a!["id"] == chatApps[0])!;
        bare["model_config"] = null;
        var settings = DifyAuthTests.Settings() with { DataDir = dir.Path };
        using var store = DifyUsageExporter.Storage.StateStore.Open(dir.Path, time);
        using var source = DifyUsageExporter.Dify.DifyUsageSource.Create(settings, store, new FakeLogs(), time, new(), fake);
        var day = new DateOnly(2025, 11, 21);
        (await source.ExtractAsync(day, day, fullRead: true, Ct)).Failures.ShouldBeEmpty();

        var details = fake.Paths.Where(p => Regex.IsMatch(p, "^/console/api/apps/[0-9a-f-]{36}$")).ToList();
        details.ShouldBe([$"/console/api/apps/{chatApps[0]}"]);
    }
}
