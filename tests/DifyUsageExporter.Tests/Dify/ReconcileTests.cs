using System.Text.Json;
using DifyUsageExporter.Cli;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Tests.Cli;
using DifyUsageExporter.Usage;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>`reconcile` against the simulator's 1.17.1 profile, whose statistics follow Dify's own rules.</summary>
public class ReconcileTests
{
    private static readonly DateOnly From = new(2026, 6, 23);
    private static readonly DateOnly To = new(2026, 7, 8);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ExporterSettings CliSettings(SimHarness run) => run.Settings with { DataDir = run.Settings.DataDir };

    [Fact]
    public async Task Every_difference_on_Dify_1_17_is_explained_and_the_result_is_kept()
    {
        await using var sim = await CurrentDifyAcceptanceTests.StartAsync(61);
        using var run = new SimHarness(sim);
        (await run.ExtractAsync(From, To)).Failures.ShouldBeEmpty();

        var report = await new DifyReconciler(run.Store, run.Source.Client, run.Logs, TimeProvider.System).ReconcileAsync(From, To, Ct);

        report.UnexplainedRows.ShouldBeEmpty(string.Join("\n", report.UnexplainedRows.Select(r => $"{r.AppName} {r.Date}: {r.Reason}")));
        report.Ok.ShouldBeTrue();
        report.UnexplainedTokens.ShouldBe(0);
        report.TimeZone.ShouldBe("Asia/Tokyo");
        var flow = sim.Options.Workspace.Apps.Single(a => a.Name.StartsWith("Agent Workflow", StringComparison.Ordinal));
        report.Rows.ShouldContain(r => r.AppId == flow.Id.ToString() && r.Status == ReconcileStatus.Explained && r.Reason!.Contains("trigger-started", StringComparison.Ordinal));
        report.Rows.ShouldContain(r => r.AppMode == "chat" && r.Status == ReconcileStatus.Explained && r.Reason!.Contains("Studio previews", StringComparison.Ordinal));
        report.Rows.ShouldContain(r => r.AppMode == "agent" && r.Status == ReconcileStatus.Match);
        report.Rows.ShouldContain(r => r.AppMode == "advanced-chat" && r.Status == ReconcileStatus.Match);
        report.Rows.Where(r => r.AppMode == "rag-pipeline").ShouldNotBeEmpty();
        report.Rows.Where(r => r.AppMode == "rag-pipeline").ShouldAllBe(r => r.Status == ReconcileStatus.Unchecked);

        // One request per app per window (two for an agent app: webapp and debugger).
        var apps = sim.Options.Workspace.Apps.Count(a => !a.Archived && a.Mode is "chat" or "agent-chat" or "completion" or "advanced-chat" or "workflow");
        sim.Counters.Requests("/statistics/token-costs").ShouldBe(apps);
        sim.Counters.Requests("/statistics/summary").ShouldBe(2 * sim.Options.Workspace.Apps.Count(a => a.Mode == "agent"));

        var kept = await run.Store.ReadReconcileAsync(Ct);
        kept.ShouldNotBeNull();
        using var doc = JsonDocument.Parse(kept);
        doc.RootElement.GetProperty("ok").GetBoolean().ShouldBeTrue();
        doc.RootElement.GetProperty("unexplained_tokens").GetInt64().ShouldBe(0);
    }

    [Fact]
    public async Task Usage_hidden_from_the_exporter_but_not_from_Dify_statistics_fails_naming_app_and_day()
    {
        await using var sim = await CurrentDifyAcceptanceTests.StartAsync(67, o => new DifySimulatorOptions
        {
            AuthMode = o.AuthMode,
            Version = o.Version,
            SupportsTriggeredFromFilter = true,
            HideNestedAgentUsage = true,
            Workspace = o.Workspace,
        });
        using var run = new SimHarness(sim);
        (await run.ExtractAsync(From, To)).Failures.ShouldBeEmpty();

        var flow = sim.Options.Workspace.Apps.Single(a => a.Name.StartsWith("Agent Workflow", StringComparison.Ordinal));
        // Days (Dify's, in the account zone) with app-run runs whose agent nodes carry usage the exporter cannot see.
        var hiddenDays = flow.Runs.Where(r => r.TriggeredFrom == "app-run" && r.Nodes.Any(n => n.Shape == SimNodeUsageShape.AgentNested && n.Usage!.TotalTokens > 0))
            .Select(r => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(r.CreatedAt, sim.AccountZone).DateTime))
            .Where(d => d >= From && d <= To).Distinct().Order().ToList();
        hiddenDays.ShouldNotBeEmpty();

        var t = new CliTestEnvironment(CliSettings(run));
        var exit = await ReconcileCommand.RunAsync(t.Env, From, To, json: true, Ct);

        exit.ShouldBe(ExitCodes.Failure);
        using var doc = JsonDocument.Parse(t.Out.ToString());
        doc.RootElement.GetProperty("ok").GetBoolean().ShouldBeFalse();
        var unexplained = doc.RootElement.GetProperty("rows").EnumerateArray().Where(r => r.GetProperty("status").GetString() == "unexplained").ToList();
        unexplained.ShouldAllBe(r => r.GetProperty("app").GetString() == flow.Name && r.GetProperty("difference").GetInt64() < 0);
        unexplained.Select(r => r.GetProperty("date").GetString()).Order().ShouldBe(hiddenDays.Select(d => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)));
        doc.RootElement.GetProperty("unexplained_tokens").GetInt64().ShouldBeGreaterThan(0);
        t.Logs.Lines.ShouldContain(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains(flow.Name, StringComparison.Ordinal) && l.Contains(hiddenDays[0].ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_table_names_each_app_and_day_and_exit_0_means_every_difference_is_explained()
    {
        await using var sim = await CurrentDifyAcceptanceTests.StartAsync(71);
        using var run = new SimHarness(sim);
        (await run.ExtractAsync(From, To)).Failures.ShouldBeEmpty();

        var t = new CliTestEnvironment(CliSettings(run));
        (await ReconcileCommand.RunAsync(t.Env, From, To, json: false, Ct)).ShouldBe(ExitCodes.Success);
        var text = t.Out.ToString();
        text.ShouldContain("OK: every difference is explained.");
        text.ShouldContain("Dify keeps no statistics for knowledge pipelines");
        foreach (var app in sim.Options.Workspace.Apps.Where(a => a.Mode == "agent"))
        {
            text.ShouldContain(app.Name);
        }
    }

    [Fact]
    public async Task The_statistics_of_all_apps_are_requested_together_not_one_round_trip_after_another()
    {
        await using var sim = await CurrentDifyAcceptanceTests.StartAsync(73, o => new DifySimulatorOptions
        {
            AuthMode = o.AuthMode,
            Version = o.Version,
            SupportsTriggeredFromFilter = true,
            Workspace = o.Workspace,
            Latency = TimeSpan.FromMilliseconds(40),
        });
        using var run = new SimHarness(sim);
        (await run.ExtractAsync(From, To)).Failures.ShouldBeEmpty();
        sim.Counters.Reset();

        var report = await new DifyReconciler(run.Store, run.Source.Client, run.Logs, TimeProvider.System).ReconcileAsync(From, To, Ct);

        report.UnexplainedRows.ShouldBeEmpty();
        report.Errors.ShouldBe(0);
        var statistics = sim.Counters.Requests("/statistics/token-costs") + sim.Counters.Requests("/statistics/summary");
        statistics.ShouldBeGreaterThan(4, "precondition: several apps with statistics");
        // The listings before them are read one at a time; the statistics requests all start
        // before the first answer (40 ms), so the client's limit (8 at the start) is what bounds them.
        sim.Counters.MaxConcurrentRequests.ShouldBeGreaterThanOrEqualTo(4);
    }
}
