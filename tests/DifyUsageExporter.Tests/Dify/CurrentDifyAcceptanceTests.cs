using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>
/// Acceptance against the simulator's Dify 1.17.1 profile: every kind current Dify bills is counted
/// exactly once, every excluded kind is not, compared with the generator's independent truth.
/// </summary>
public class CurrentDifyAcceptanceTests
{
    private static readonly DateOnly From = new(2026, 6, 23);
    private static readonly DateOnly To = new(2026, 7, 8);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static Task<DifySimulator> StartAsync(int seed, Func<DifySimulatorOptions, DifySimulatorOptions>? tweak = null)
    {
        var options = new DifySimulatorOptions
        {
            AuthMode = DifyAuthMode.CookieBase64,
            Version = "1.17.1",
            SupportsTriggeredFromFilter = true,
            Workspace = WorkspaceGenerator.Generate(GeneratorOptions.ForVersion("1.17.1", seed)),
        };
        return DifySimulator.StartAsync(tweak?.Invoke(options) ?? options, Ct);
    }

    [Fact]
    public async Task Every_kind_of_Dify_1_17_is_counted_exactly_once()
    {
        await using var sim = await StartAsync(41);
        using var run = new SimHarness(sim);
        var report = await run.ExtractAsync(From, To);

        report.Failures.ShouldBeEmpty();
        var expected = sim.Truth.EventsIn(sim.AccountZone, From, To).ToList();
        expected.Select(e => e.AppMode).Distinct().Order().ShouldBe(["advanced-chat", "agent", "agent-chat", "chat", "completion", "rag-pipeline", "workflow"]);
        var actual = await run.EventsAsync(From, To);
        SimHarness.Compare(actual, expected, sim.AccountZone).ShouldBeEmpty();
        actual.Count.ShouldBe(expected.Count);

        // channel carries no usage (not unknown); a mode this exporter does not know is skipped and named.
        report.UnknownModeApps.ShouldContain(a => a.EndsWith(": voice-agent", StringComparison.Ordinal));
        report.UnknownModeApps.ShouldNotContain(a => a.EndsWith(": channel", StringComparison.Ordinal));
        report.UnknownModeApps.ShouldNotContain(a => a.EndsWith(": agent", StringComparison.Ordinal));
        report.AppsSkipped.ShouldBe(report.UnknownModeApps.Count);
    }

    [Fact]
    public async Task Trigger_started_runs_webhook_schedule_and_plugin_are_counted_and_marked()
    {
        await using var sim = await StartAsync(43);
        using var run = new SimHarness(sim);
        (await run.ExtractAsync(From, To)).Failures.ShouldBeEmpty();
        var stored = (await run.EventsAsync(From, To)).ToDictionary(e => e.EventId);
        var triggerRuns = sim.Options.Workspace.Apps.SelectMany(a => a.Runs).Where(r => r.IsTriggerRun && r.CreatedAt >= new DateTimeOffset(2026, 6, 24, 0, 0, 0, TimeSpan.Zero)).ToList();
        triggerRuns.Select(r => r.TriggeredFrom).Distinct().Order().ShouldBe(["plugin", "schedule", "webhook"]);
        foreach (var r in triggerRuns)
        {
            foreach (var node in r.Nodes.Where(n => n.Usage is { TotalTokens: > 0 } && n.Shape != SimNodeUsageShape.None))
            {
                stored.ShouldContainKey(node.Id.ToString(), $"{r.TriggeredFrom} run {r.Id}");
                stored[node.Id.ToString()].SourceId.ShouldBe($"{r.Id}@{r.TriggeredFrom}");
            }
        }
    }

    [Fact]
    public async Task Excluded_kinds_are_never_counted()
    {
        await using var sim = await StartAsync(47);
        using var run = new SimHarness(sim);
        (await run.ExtractAsync(From, To)).Failures.ShouldBeEmpty();
        var ids = (await run.EventsAsync(From, To)).Select(e => e.EventId).ToHashSet(StringComparer.Ordinal);
        var ws = sim.Options.Workspace;

        var debuggerMessages = ws.Apps.Where(a => a.Mode == "agent").SelectMany(a => a.Conversations.Where(c => c.IsDebugger)).SelectMany(c => c.Messages).ToList();
        debuggerMessages.ShouldNotBeEmpty();
        debuggerMessages.ShouldAllBe(m => !ids.Contains(m.Id.ToString()));

        var previewRuns = ws.Datasets.Select(d => d.Pipeline).OfType<SimApp>().SelectMany(p => p.Runs).Where(r => r.TriggeredFrom == "rag-pipeline-debugging").ToList();
        previewRuns.ShouldNotBeEmpty();
        previewRuns.SelectMany(r => r.Nodes).ShouldAllBe(n => !ids.Contains(n.Id.ToString()));

        var studioRuns = ws.Apps.SelectMany(a => a.Runs).Where(r => r.TriggeredFrom == "debugging").ToList();
        studioRuns.SelectMany(r => r.Nodes).ShouldAllBe(n => !ids.Contains(n.Id.ToString()));

        // Agent messages Dify stored without usage are no events, but are reported per app and day.
        var zero = GroundTruth.ZeroUsageAgentMessages(ws, sim.AccountZone);
        zero.ShouldNotBeEmpty();
        var agentMessages = ws.Apps.Where(a => a.Mode == "agent").SelectMany(a => a.Conversations).SelectMany(c => c.Messages).Where(m => m.MessageTokens == 0);
        agentMessages.ShouldAllBe(m => !ids.Contains(m.Id.ToString()));
    }

    [Fact]
    public async Task Agent_messages_without_stored_usage_are_reported_per_app_and_day()
    {
        await using var sim = await StartAsync(53);
        using var run = new SimHarness(sim);
        var report = await run.ExtractAsync(From, To);

        var expected = GroundTruth.ZeroUsageAgentMessages(sim.Options.Workspace, sim.AccountZone)
            .Where(z => z.Date >= From && z.Date <= To).Select(z => (z.AppId.ToString(), z.Date, z.Messages)).ToList();
        expected.ShouldNotBeEmpty();
        report.ZeroUsageDays.Select(z => (z.AppId, z.UsageDate, z.Messages)).OrderBy(x => x.AppId).ThenBy(x => x.UsageDate)
            .ShouldBe(expected.OrderBy(x => x.Item1).ThenBy(x => x.Date));
        var warnings = run.Logs.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("Dify recorded no usage for", StringComparison.Ordinal)).ToList();
        warnings.Count.ShouldBe(expected.Count);
    }

    [Fact]
    public async Task A_nested_agent_usage_that_does_not_parse_marks_the_app_days_incomplete_naming_app_and_field()
    {
        await using var sim = await StartAsync(59, o => new DifySimulatorOptions
        {
            AuthMode = o.AuthMode,
            Version = o.Version,
            SupportsTriggeredFromFilter = true,
            MalformedNestedAgentUsage = true,
            Workspace = o.Workspace,
        });
        using var run = new SimHarness(sim);
        var report = await run.ExtractAsync(From, To);

        var agentFlow = sim.Options.Workspace.Apps.Single(a => a.Name.StartsWith("Agent Workflow", StringComparison.Ordinal));
        report.Failures.ShouldNotBeEmpty();
        report.Failures.ShouldAllBe(f => f.AppId == agentFlow.Id.ToString());
        report.Failures.ShouldAllBe(f => f.Reason.Contains("agent_backend.usage.total_tokens", StringComparison.Ordinal));
        run.Logs.Lines.ShouldContain(l => (l.StartsWith("Warning", StringComparison.Ordinal) || l.StartsWith("Error", StringComparison.Ordinal)) && l.Contains(agentFlow.Name, StringComparison.Ordinal)
            && l.Contains("agent_backend.usage.total_tokens", StringComparison.Ordinal));
        // Every other app is unaffected and exact.
        var zone = sim.AccountZone;
        var bad = report.IncompleteDays().ToHashSet();
        var others = sim.Truth.EventsIn(zone, From, To).Where(e => e.AppId != agentFlow.Id && !bad.Contains(e.LocalDate(zone))).ToList();
        var stored = (await run.EventsAsync(From, To)).Where(e => e.AppId != agentFlow.Id.ToString() && !bad.Contains(e.UsageDate)).ToList();
        SimHarness.Compare(stored, others, zone).ShouldBeEmpty();
    }

    [Fact]
    public async Task Dify_before_agent_apps_serves_no_agent_api_and_its_agent_mode_app_is_skipped_as_unknown()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 3 }) }, Ct);
        using var run = new SimHarness(sim);
        var report = await run.ExtractAsync(new DateOnly(2026, 3, 2), new DateOnly(2026, 3, 13));

        report.Failures.ShouldBeEmpty();
        report.UnknownModeApps.Select(a => a[(a.LastIndexOf(':') + 2)..]).Order().ShouldBe(["agent", "rag-pipeline"]);
        sim.Counters.Requests("/console/api/agent").ShouldBe(1);
    }
}
