using DifyUsageExporter.Usage;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>
/// The compact simulator workspace (the benchmark's 1M-event one) read by the real extractor. A 1M-event
/// workspace draws some equal node seeds by chance (birthday bound over 2^31 seeds: 46 shared node
/// execution ids among 280,805 runs with seed 15); <see cref="GeneratorOptions.NodeSeeds"/> makes
/// equal seeds certain at a small size.
/// </summary>
public class CompactWorkspaceAcceptanceTests
{
    private static readonly DateOnly From = new(2026, 2, 28);
    private static readonly DateOnly To = new(2026, 3, 15);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SimWorkspace EqualSeeds() => WorkspaceGenerator.Generate(new GeneratorOptions
    {
        Seed = 31,
        ConversationsPerApp = 12,
        RunsPerWorkflowApp = 40,
        CompactNodes = true,
        NodeSeeds = 3,
    });

    [Fact]
    public void Runs_with_equal_node_seeds_share_usage_but_never_node_execution_ids()
    {
        var runs = EqualSeeds().Apps.SelectMany(a => a.Runs).ToList();
        runs.Count.ShouldBeGreaterThan(100);
        var ids = runs.SelectMany(r => r.Nodes.Select(n => n.Id)).ToList();
        ids.Distinct().Count().ShouldBe(ids.Count);

        // The seeds really are shared: many runs carry the same usage shape.
        var shapes = runs.Select(r => string.Join(";", r.Nodes.Select(n => $"{n.NodeType}|{n.Usage?.PromptTokens}|{n.Usage?.CompletionTokens}")));
        shapes.GroupBy(s => s).Max(g => g.Count()).ShouldBeGreaterThan(10);
    }

    [Fact]
    public async Task Every_run_of_a_workspace_with_equal_node_seeds_is_counted_once()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = EqualSeeds() }, Ct);
        using var run = new SimHarness(sim, tweak: s => s with { DifyFetchPageSize = 7 });
        var report = await run.ExtractAsync(From, To);
        report.Failures.ShouldBeEmpty();

        var zone = sim.AccountZone;
        var truth = sim.Truth.ByDayProviderModel(zone, From, To);
        truth.Sum(r => r.RequestCount).ShouldBeGreaterThan(300);
        var mine = (await run.EventsAsync(From, To))
            .GroupBy(e => (e.UsageDate, P: ProviderModelNormalizer.NormalizeProvider(e.Provider), M: ProviderModelNormalizer.NormalizeModel(e.Model)))
            .ToDictionary(g => g.Key, g => (In: g.Sum(e => e.InputTokens), Out: g.Sum(e => e.OutputTokens), N: g.Count(), Cost: g.Sum(e => e.Cost)));
        mine.Count.ShouldBe(truth.Count);
        foreach (var row in truth)
        {
            var m = mine[(row.Date, row.Provider, row.Model)];
            (m.In, m.Out, m.N, m.Cost).ShouldBe((row.InputTokens, row.OutputTokens, row.RequestCount, row.Cost), $"{row.Date} {row.Provider}/{row.Model}");
        }
    }
}
