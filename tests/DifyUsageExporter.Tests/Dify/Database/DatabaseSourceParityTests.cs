using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Dify.Database;

/// <summary>
/// The database source and the console source read the same simulated workspace (served by the console
/// simulator, and written into Dify's tables on a real PostgreSQL): identical events, event ids, source ids and
/// daily totals in every app mode, both equal to the generator's independent truth.
/// </summary>
public class DatabaseSourceParityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Dify_1_17_every_mode_database_equals_console_equals_truth()
    {
        await using var sim = await CurrentDifyAcceptanceTests.StartAsync(61);
        await AssertParityAsync(sim, new DateOnly(2026, 6, 23), new DateOnly(2026, 7, 8),
            ["advanced-chat", "agent", "agent-chat", "chat", "completion", "rag-pipeline", "workflow"]);
    }

    [Fact]
    public async Task Classic_Dify_1_11_with_archived_and_unknown_apps_database_equals_console()
    {
        // A Dify before 1.12 has no apps of mode `agent` (the console source skips one as unknown there; the
        // database source would read its messages): the generator's artificial one is left out.
        var ws = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 62 });
        ws.Apps.RemoveAll(a => a.Mode == "agent");
        ws.Apps.ShouldContain(a => a.Archived);
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { Version = "1.11.1", AuthMode = DifyAuthMode.CookieBase64, Workspace = ws }, Ct);
        await AssertParityAsync(sim, new DateOnly(2026, 2, 28), new DateOnly(2026, 3, 15), ["advanced-chat", "agent-chat", "chat", "completion", "workflow"]);
    }

    private static async Task AssertParityAsync(DifySimulator sim, DateOnly from, DateOnly to, string[] modes)
    {
        var connectionString = await DatabaseHarness.CreateAsync(sim.Options.Workspace, sim.AccountZone.Id, Ct);
        using var console = new SimHarness(sim);
        using var database = DatabaseHarness.Over(connectionString);
        var consoleReport = await console.ExtractAsync(from, to);
        var databaseReport = await database.ExtractAsync(from, to);

        consoleReport.Failures.ShouldBeEmpty();
        databaseReport.Failures.ShouldBeEmpty();
        databaseReport.TimeZone.Id.ShouldBe(sim.AccountZone.Id, "the owner's accounts.timezone");
        databaseReport.UnknownModeApps.Order().ShouldBe(consoleReport.UnknownModeApps.Order());

        var expected = sim.Truth.EventsIn(sim.AccountZone, from, to).ToList();
        expected.Select(e => e.AppMode).Distinct().Order().ShouldBe(modes);
        var fromConsole = await console.EventsAsync(from, to);
        var fromDatabase = await database.EventsAsync(from, to);
        SimHarness.Compare(fromDatabase, expected, sim.AccountZone).ShouldBeEmpty();

        // Same ledger rows: the ledger key (event id) and source id of every invocation, so switching
        // source replaces rows instead of adding them.
        var byId = fromConsole.ToDictionary(e => e.EventId);
        fromDatabase.Count.ShouldBe(fromConsole.Count);
        foreach (var e in fromDatabase)
        {
            byId.ShouldContainKey(e.EventId);
            e.ShouldBe(byId[e.EventId] with { AppName = e.AppName }, $"event {e.EventId}");
        }

        SimHarness.ByDay(fromDatabase).OrderBy(d => d.Key).ShouldBe(SimHarness.ByDay(fromConsole).OrderBy(d => d.Key));
        SimHarness.ByDay(fromDatabase).OrderBy(d => d.Key).ShouldBe(SimHarness.ByDay(expected, sim.AccountZone).OrderBy(d => d.Key));
        databaseReport.ZeroUsageDays.Select(z => (z.AppId, z.UsageDate, z.Messages)).Order()
            .ShouldBe(consoleReport.ZeroUsageDays.Select(z => (z.AppId, z.UsageDate, z.Messages)).Order());
    }
}
