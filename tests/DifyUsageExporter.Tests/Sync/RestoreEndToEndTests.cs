using System.Globalization;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Tests.Cli;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>
/// `backup` and `restore` between real export cycles against both simulators (Dify console and
/// API_Meter): after a restore the next cycle sends nothing the restored store records as delivered,
/// only what changed in Dify since the backup, and API_Meter ends equal to the generator's truth.
/// </summary>
public sealed class RestoreEndToEndTests
{
    private static readonly DateOnly From = new(2026, 3, 1);
    private static readonly DateOnly To = new(2026, 3, 16);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void MeterShouldEqualTruth(DeliveryHarness h, DifySimulator sim)
    {
        var truth = sim.Truth.ByDayProviderModel(sim.AccountZone, From, To);
        truth.Count.ShouldBeGreaterThan(10);
        var rows = h.Meter.Rows().ToDictionary(r => (r.UsageDate, r.Provider, r.Model));
        rows.Count.ShouldBe(truth.Count);
        foreach (var t in truth)
        {
            var row = rows[(t.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), t.Provider, t.Model)];
            (row.InputTokens, row.OutputTokens, row.RequestCount).ShouldBe((t.InputTokens, t.OutputTokens, (long)t.RequestCount));
            row.CostActual.ShouldBe(Math.Round(t.Cost, 7, MidpointRounding.AwayFromZero));
        }
    }

    private static async Task CycleAsync(DeliveryHarness h)
    {
        var cycle = await DeliveryHarness.CreateCycleWithDifyAsync(h);
        var result = await cycle.RunCycleAsync("schedule", "e2e-" + Guid.NewGuid().ToString("N")[..6], Ct);
        result.Outcome.ShouldBe(DifyUsageExporter.Sync.CycleOutcome.Success, result.Summary);
    }

    [Fact]
    public async Task After_a_restore_the_next_cycle_resends_nothing_already_delivered_and_only_what_changed_since_the_backup()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 7 }) }, Ct);
        await using var h = await DeliveryHarness.CreateAsync(configure: s => s with
        {
            DifyBaseUrl = sim.BaseUrl,
            DifyEmail = sim.Options.Email,
            DifyPassword = sim.Options.Password,
            DifyFetchRetryCount = 1,
            DifyFetchRetryDelay = TimeSpan.FromMilliseconds(1),
            WatermarkEnabled = false,
        });
        h.Clock.Advance(TimeSpan.FromDays(10)); // "today" = 2026-03-20: the window 03-01..03-16 is complete
        await CycleAsync(h);
        MeterShouldEqualTruth(h, sim);
        var delivered = h.Meter.Requests.Count;

        var backup = await CliHarness.InvokeAsync(h, "backup");
        backup.ExitCode.ShouldBe(ExitCodes.Success, backup.Error);
        var file = Directory.GetFiles(Path.Combine(h.Dir, "backups")).ShouldHaveSingleItem();

        // 1. Restore right after the backup: the next cycle sends nothing at all.
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        (await CliHarness.InvokeAsync(h, "restore", file, "--yes")).ExitCode.ShouldBe(ExitCodes.Success);
        await CycleAsync(h);
        h.Meter.Requests.Count.ShouldBe(delivered);

        // 2. Dify gains a message on 03-05; a cycle delivers it; then the older backup is restored.
        var app = sim.Options.Workspace!.Apps.First(a => a.Mode == "chat" && !a.Archived && a.Model is not null);
        app.Conversations.Add(new SimConversation
        {
            From = SimActor.Of(new SimEndUser(Guid.NewGuid(), "service_api", false, "late-user")),
            Messages = [new SimMessage { CreatedAt = new DateTimeOffset(2026, 3, 5, 3, 0, 0, TimeSpan.Zero), Usage = SimUsage.Priced(1234, 567, app.Model!) }],
        });
        sim.NotifyDataChanged();
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        await CycleAsync(h);
        MeterShouldEqualTruth(h, sim);
        h.Meter.Requests.Count.ShouldBe(delivered + 1);
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        (await CliHarness.InvokeAsync(h, "restore", file, "--yes")).ExitCode.ShouldBe(ExitCodes.Success);

        // The restored store knows the old total of that one key: exactly that key goes out again.
        await CycleAsync(h);
        h.Meter.Requests.Count.ShouldBe(delivered + 2);
        h.Meter.Requests[^1].RecordCount.ShouldBe(1);
        MeterShouldEqualTruth(h, sim);
        (await CliHarness.InvokeAsync(h, "verify")).ExitCode.ShouldBe(ExitCodes.Success);
        await CycleAsync(h);
        h.Meter.Requests.Count.ShouldBe(delivered + 2);
        Directory.GetFiles(Path.Combine(h.Dir, "backups"), "*-pre-restore*.db").Length.ShouldBe(2);
    }
}
