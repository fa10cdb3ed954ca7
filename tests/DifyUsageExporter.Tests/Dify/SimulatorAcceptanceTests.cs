using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>Acceptance: the real client and extractor against the Dify simulator, compared with the generator's independent truth.</summary>
public class SimulatorAcceptanceTests
{
    private static readonly DateOnly From = new(2026, 3, 2);
    private static readonly DateOnly To = new(2026, 3, 13);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SimWorkspace Workspace(int seed = 11) => WorkspaceGenerator.Generate(new GeneratorOptions { Seed = seed });

    [Theory]
    [InlineData(DifyAuthMode.Legacy, false, null)]
    [InlineData(DifyAuthMode.Cookie, false, null)]
    [InlineData(DifyAuthMode.Cookie, true, null)]
    [InlineData(DifyAuthMode.CookieBase64, false, null)]
    [InlineData(DifyAuthMode.CookieBase64, true, null)]
    [InlineData(DifyAuthMode.CookieBase64, true, "dify.example.test")]
    public async Task Every_auth_era_extracts_every_app_mode_exactly(DifyAuthMode mode, bool secure, string? cookieDomain)
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = mode, IsSecure = secure, CookieDomain = cookieDomain, Workspace = Workspace() }, Ct);
        using var run = new SimHarness(sim);
        var report = await run.ExtractAsync(From, To);

        report.Failures.ShouldBeEmpty();
        report.TimeZone.Id.ShouldBe("Asia/Tokyo");
        // rag-pipeline and agent (no agent API before 1.12) are skipped as unknown; channel carries no usage.
        report.AppsSkipped.ShouldBe(2);
        var expected = sim.Truth.EventsIn(sim.AccountZone, From, To).ToList();
        expected.Select(e => e.AppMode).Distinct().Order().ShouldBe(["advanced-chat", "agent-chat", "chat", "completion", "workflow"]);
        var actual = await run.EventsAsync(From, To);
        SimHarness.Compare(actual, expected, sim.AccountZone).ShouldBeEmpty();
        report.EventsStored.ShouldBeGreaterThanOrEqualTo(expected.Count);
        sim.Counters.Logins.ShouldBe(1);
        sim.Counters.LoginFailures.ShouldBe(0);
        sim.Counters.Requests("/workflow-runs?").ShouldBe(0);
        var prefix = secure && cookieDomain == null ? "__Host-" : string.Empty;
        run.Source.Client.ServerInfo.CookieNames.Count.ShouldBe(mode == DifyAuthMode.Legacy ? 0 : 3);
        run.Source.Client.ServerInfo.CookieNames.ShouldAllBe(n => n.StartsWith(prefix, StringComparison.Ordinal) && (prefix.Length > 0 || !n.StartsWith("__", StringComparison.Ordinal)));
        var days = await run.Store.ReadDayExtractionsAsync(From, To, Ct);
        days.Count.ShouldBe(To.DayNumber - From.DayNumber + 1);
        days.Values.ShouldAllBe(d => d.Complete);
    }

    [Theory]
    [InlineData("Asia/Tokyo", null)]
    [InlineData("America/New_York", null)]
    [InlineData("Asia/Tokyo", "America/New_York")]
    [InlineData("America/New_York", "UTC")]
    public async Task Daily_totals_equal_truth_to_the_token_and_the_ten_millionth_dollar(string accountZone, string? usageZone)
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, AccountTimeZone = accountZone, Workspace = Workspace(23) }, Ct);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(usageZone ?? accountZone);
        using var run = new SimHarness(sim, tweak: s => s with { UsageTimeZone = usageZone is null ? null : zone });
        // Includes the US DST start (2026-03-08) and the first and last data days.
        var from = new DateOnly(2026, 2, 28);
        var to = new DateOnly(2026, 3, 15);
        var report = await run.ExtractAsync(from, to);
        report.Failures.ShouldBeEmpty();
        report.TimeZone.ShouldBe(zone);

        var actual = SimHarness.ByDay(await run.EventsAsync(from, to));
        var expected = SimHarness.ByDay(sim.Truth.EventsIn(zone, from, to), zone);
        actual.Keys.Order().ShouldBe(expected.Keys.Order());
        foreach (var (day, e) in expected)
        {
            var a = actual[day];
            (a.N, a.In, a.Out).ShouldBe((e.N, e.In, e.Out), $"tokens on {day}");
            Math.Abs(a.Cost - e.Cost).ShouldBeLessThanOrEqualTo(0.0000001m, $"cost on {day}");
        }

        var truth = sim.Truth.ByDayProviderModel(zone, from, to);
        var mine = (await run.EventsAsync(from, to))
            .GroupBy(e => (e.UsageDate, P: DifyUsageExporter.Usage.ProviderModelNormalizer.NormalizeProvider(e.Provider), M: DifyUsageExporter.Usage.ProviderModelNormalizer.NormalizeModel(e.Model)))
            .ToDictionary(g => g.Key, g => (In: g.Sum(e => e.InputTokens), Out: g.Sum(e => e.OutputTokens), N: g.Count(), Cost: g.Sum(e => e.Cost)));
        mine.Count.ShouldBe(truth.Count);
        foreach (var row in truth)
        {
            var m = mine[(row.Date, row.Provider, row.Model)];
            (m.In, m.Out, m.N, m.Cost).ShouldBe((row.InputTokens, row.OutputTokens, row.RequestCount, row.Cost), $"{row.Date} {row.Provider}/{row.Model}");
        }
    }

    [Theory]
    [InlineData(DifyAuthMode.Legacy, false)]
    [InlineData(DifyAuthMode.Cookie, false)]
    [InlineData(DifyAuthMode.Cookie, true)]
    [InlineData(DifyAuthMode.CookieBase64, false)]
    public async Task Token_expiry_in_the_middle_of_a_long_extraction_is_survived(DifyAuthMode mode, bool refreshReadsUnprefixedCookie)
    {
        // Every request moves the shared clock 10 s forward; with a 2-minute TTL the session expires
        // every dozen requests, in the middle of listings and paging, with 6 requests in flight.
        var clock = new FakeClock(new DateTimeOffset(2026, 3, 20, 0, 0, 0, TimeSpan.Zero), FakeTimers.Real);
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = mode, IsSecure = true, AccessTokenTtl = TimeSpan.FromMinutes(2), Clock = clock, RefreshReadsUnprefixedCookie = refreshReadsUnprefixedCookie, Workspace = Workspace(5) }, Ct);
        sim.BeforeRequest = _ => clock.Advance(TimeSpan.FromSeconds(10));
        using var run = new SimHarness(sim, clock, s => s with { DifyFetchConcurrency = 6 });
        var report = await run.ExtractAsync(From, To);

        report.Failures.ShouldBeEmpty();
        SimHarness.Compare(await run.EventsAsync(From, To), sim.Truth.EventsIn(sim.AccountZone, From, To), sim.AccountZone).ShouldBeEmpty();
        sim.Counters.Refreshes.ShouldBeGreaterThanOrEqualTo(3);
        sim.Counters.RefreshFailures.ShouldBe(0);
        sim.Counters.Logins.ShouldBe(1);
    }

    [Fact]
    public async Task A_failing_run_marks_exactly_its_day_and_app_incomplete_and_the_next_run_repairs_it()
    {
        var workspace = Workspace(31);
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Cookie, Workspace = workspace }, Ct);
        var zone = sim.AccountZone;
        var victim = sim.Truth.EventsIn(zone, From, To).First(e => e.AppMode == "workflow" && e.Source == "node");
        var victimDay = victim.LocalDate(zone);
        var runId = workspace.Apps.SelectMany(a => a.Runs).First(r => r.Nodes.Any(n => n.Id.ToString() == victim.EventId)).Id.ToString();
        sim.Faults.FailNext($"/workflow-runs/{runId}/node-executions", DifyFaultKind.InternalServerError, times: 1000);

        using var run = new SimHarness(sim);
        var report = await run.ExtractAsync(From, To, fullRead: false);

        report.IncompleteDays().ShouldBe([victimDay]);
        report.Failures.Select(f => f.AppId).Distinct().ShouldBe([victim.AppId.ToString()]);
        var days = await run.Store.ReadDayExtractionsAsync(From, To, Ct);
        days[victimDay].Complete.ShouldBeFalse();
        days[victimDay].IncompleteApps.ShouldBe([victim.AppId.ToString()]);
        days.Values.Where(d => d.UsageDate != victimDay).ShouldAllBe(d => d.Complete);
        // Every other day equals the truth already.
        var stored = await run.EventsAsync(From, To);
        var truthOther = sim.Truth.EventsIn(zone, From, To).Where(e => e.LocalDate(zone) != victimDay).ToList();
        SimHarness.Compare(stored.Where(e => e.UsageDate != victimDay).ToList(), truthOther, zone).ShouldBeEmpty();
        // The failing app's watermark did not move.
        (await run.Store.ReadWatermarksAsync(Ct)).ShouldNotContain(w => w.AppId == victim.AppId.ToString());

        sim.Faults.Clear();
        var again = await run.ExtractAsync(From, To, fullRead: false);
        again.Failures.ShouldBeEmpty();
        SimHarness.Compare(await run.EventsAsync(From, To), sim.Truth.EventsIn(zone, From, To), zone).ShouldBeEmpty();
        (await run.Store.ReadDayExtractionsAsync(From, To, Ct)).Values.ShouldAllBe(d => d.Complete);
    }

    [Fact]
    public async Task A_whole_failing_app_does_not_stop_the_others()
    {
        var workspace = Workspace(37);
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = workspace }, Ct);
        var zone = sim.AccountZone;
        var victim = workspace.Apps.First(a => a.Mode == "chat");
        sim.Faults.FailNext($"/apps/{victim.Id}/", DifyFaultKind.BadGatewayHtml, times: 1000);
        using var run = new SimHarness(sim);
        var report = await run.ExtractAsync(From, To);

        report.Failures.Select(f => f.AppId).Distinct().ShouldBe([victim.Id.ToString()]);
        report.IncompleteDays().Count.ShouldBe(To.DayNumber - From.DayNumber + 1);
        var others = sim.Truth.EventsIn(zone, From, To).Where(e => e.AppId != victim.Id).ToList();
        SimHarness.Compare((await run.EventsAsync(From, To)).Where(e => e.AppId != victim.Id.ToString()).ToList(), others, zone).ShouldBeEmpty();
        (await run.Store.ReadDayExtractionsAsync(From, To, Ct)).Values.ShouldAllBe(d => !d.Complete && d.IncompleteApps.SequenceEqual(new[] { victim.Id.ToString() }));
    }

    [Fact]
    public async Task Incremental_runs_read_less_and_keep_totals_and_completeness()
    {
        var now = new DateTimeOffset(2026, 3, 20, 0, 0, 0, TimeSpan.Zero);
        var clock = new FakeClock(now, FakeTimers.Real);
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Cookie, Clock = clock, Workspace = Workspace(41) }, Ct);
        using var run = new SimHarness(sim, clock);
        (await run.ExtractAsync(From, To, fullRead: false)).Failures.ShouldBeEmpty();
        var first = sim.Counters.TotalRequests;
        var firstEvents = await run.EventsAsync(From, To);

        sim.Counters.Reset();
        clock.Advance(TimeSpan.FromHours(1));
        (await run.ExtractAsync(From, To, fullRead: false)).Failures.ShouldBeEmpty();
        sim.Counters.Requests("node-executions").ShouldBe(0);
        sim.Counters.TotalRequests.ShouldBeLessThan(first / 2);
        (await run.EventsAsync(From, To)).Count.ShouldBe(firstEvents.Count);
        SimHarness.Compare(await run.EventsAsync(From, To), sim.Truth.EventsIn(sim.AccountZone, From, To), sim.AccountZone).ShouldBeEmpty();
        (await run.Store.ReadDayExtractionsAsync(From, To, Ct)).Values.ShouldAllBe(d => d.Complete);

        // A wider window reaches days never recorded: those apps re-read from the window start.
        sim.Counters.Reset();
        var wider = await run.ExtractAsync(new DateOnly(2026, 2, 28), To, fullRead: false);
        wider.Failures.ShouldBeEmpty();
        SimHarness.Compare(await run.EventsAsync(new DateOnly(2026, 2, 28), To), sim.Truth.EventsIn(sim.AccountZone, new DateOnly(2026, 2, 28), To), sim.AccountZone).ShouldBeEmpty();
        sim.Counters.Requests("node-executions").ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Faults_are_retried_and_concurrency_is_bounded_and_no_secret_is_logged()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, IsSecure = true, Workspace = Workspace(43), Latency = TimeSpan.FromMilliseconds(2) }, Ct);
        sim.Faults.FailNext("/chat-messages", DifyFaultKind.InternalServerError, times: 2);
        sim.Faults.FailNext("/workflow-app-logs", DifyFaultKind.TooManyRequests, times: 1);
        sim.Faults.FailNext("/node-executions", DifyFaultKind.GatewayTimeoutHtml, times: 1);
        sim.Faults.FailNext("/apps", DifyFaultKind.DropConnection, times: 1);
        using var run = new SimHarness(sim, tweak: s => s with { DifyFetchConcurrency = 3, DifyFetchRetryCount = 3 });
        var report = await run.ExtractAsync(From, To);

        report.Failures.ShouldBeEmpty();
        SimHarness.Compare(await run.EventsAsync(From, To), sim.Truth.EventsIn(sim.AccountZone, From, To), sim.AccountZone).ShouldBeEmpty();
        sim.Counters.MaxConcurrentRequests.ShouldBeLessThanOrEqualTo(3);

        var log = run.Logs.AllText;
        log.ShouldContain("retry");
        log.ShouldNotContain(sim.Options.Password);
        log.ShouldNotContain(DifyUsageExporter.Dify.DifyTokens.EncodePassword(sim.Options.Password));
        log.ShouldNotContain("eyJ");
        log.ShouldNotContain("Cookie:", Case.Insensitive);
    }
}

public class SimulatorWorkspaceTests
{
    private static readonly DateOnly From = new(2026, 3, 2);
    private static readonly DateOnly To = new(2026, 3, 13);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Admin_key_extracts_the_workspace_without_login()
    {
        var workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 51 });
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, AdminApiKey = "sim-admin-key-0001", Workspace = workspace }, Ct);
        using var run = new SimHarness(sim, tweak: s => s with { DifyEmail = null, DifyPassword = null, DifyApiToken = "sim-admin-key-0001", DifyWorkspaceId = workspace.Id.ToString() });
        var report = await run.ExtractAsync(From, To);
        report.Failures.ShouldBeEmpty();
        SimHarness.Compare(await run.EventsAsync(From, To), sim.Truth.EventsIn(sim.AccountZone, From, To), sim.AccountZone).ShouldBeEmpty();
        sim.Counters.Logins.ShouldBe(0);
        run.Logs.AllText.ShouldNotContain("sim-admin-key-0001");
    }

    [Fact]
    public async Task Dify_workspace_id_selects_another_workspace_of_the_account()
    {
        var current = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 52 });
        var other = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 53 });
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Cookie, Workspace = current, AdditionalWorkspaces = [other] }, Ct);
        using var run = new SimHarness(sim, tweak: s => s with { DifyWorkspaceId = other.Id.ToString() });
        var report = await run.ExtractAsync(From, To);
        report.Failures.ShouldBeEmpty();
        sim.Auth.CurrentWorkspace.ShouldBe(other);
        SimHarness.Compare(await run.EventsAsync(From, To), GroundTruth.Compute(other).EventsIn(sim.AccountZone, From, To), sim.AccountZone).ShouldBeEmpty();
    }
}

public class SimulatorIncrementalTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Messages_arriving_after_a_run_within_the_settle_time_are_picked_up_incrementally()
    {
        var workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 61 });
        var now = new DateTimeOffset(2026, 3, 14, 12, 0, 0, TimeSpan.Zero);
        var clock = new FakeClock(now, FakeTimers.Real);
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Cookie, Clock = clock, Workspace = workspace }, Ct);
        var from = new DateOnly(2026, 3, 2);
        var to = new DateOnly(2026, 3, 14);
        using var run = new SimHarness(sim, clock);
        (await run.ExtractAsync(from, to, fullRead: false)).Failures.ShouldBeEmpty();
        var watermark = (await run.Store.ReadWatermarksAsync(Ct)).Select(w => w.Watermark).Distinct().Single();
        watermark.ShouldBe(now - TimeSpan.FromMinutes(60));

        // Dify records two messages after the run: one at 10:30 (finished late, inside the settle
        // time before the watermark) and one at 11:30, in a conversation that started days ago.
        var app = workspace.Apps.First(a => a.Mode == "chat" && !a.Archived && a.Conversations.Any(c => c.Messages.Count > 0 && c.UpdatedAt < now.AddHours(-3)));
        var conversation = app.Conversations.First(c => c.Messages.Count > 0 && c.UpdatedAt < now.AddHours(-3));
        var late = new SimMessage { CreatedAt = now.AddMinutes(-90), MessageTokens = 321, AnswerTokens = 54 };
        var newer = new SimMessage { CreatedAt = now.AddMinutes(-30), MessageTokens = 1000, AnswerTokens = 7 };
        conversation.Messages.Add(late);
        conversation.Messages.Add(newer);
        sim.NotifyDataChanged();
        clock.Advance(TimeSpan.FromMinutes(30));

        sim.Counters.Reset();
        (await run.ExtractAsync(from, to, fullRead: false)).Failures.ShouldBeEmpty();
        var events = await run.EventsAsync(from, to);
        events.ShouldContain(e => e.EventId == late.Id.ToString() && e.InputTokens == 321 && e.OutputTokens == 54);
        events.ShouldContain(e => e.EventId == newer.Id.ToString() && e.InputTokens == 1000);
        SimHarness.Compare(events, sim.Truth.EventsIn(sim.AccountZone, from, to), sim.AccountZone).ShouldBeEmpty();
        (await run.Store.ReadDayExtractionsAsync(from, to, Ct)).Values.ShouldAllBe(d => d.Complete);
        // Incremental: nowhere near a full re-read.
        sim.Counters.Requests("/chat-messages").ShouldBeLessThan(workspace.Apps.Sum(a => a.Conversations.Count) / 2);
    }
}
