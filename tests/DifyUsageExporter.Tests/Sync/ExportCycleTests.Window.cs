using DifyUsageExporter.Sync;
using Shouldly;
using Xunit;
using static DifyUsageExporter.Tests.Sync.DeliveryHarness;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>The window a scheduled cycle exports and keys whose events vanished.</summary>
public partial class ExportCycleTests
{
    /// <summary>The harness on this class's backend (SQLite here; PostgreSQL in <see cref="PostgresExportCycleTests"/>).</summary>
    protected virtual Task<DeliveryHarness> CreateAsync(bool webhook = false, Func<DifyUsageExporter.Configuration.ExporterSettings, DifyUsageExporter.Configuration.ExporterSettings>? configure = null) =>
        DeliveryHarness.CreateAsync(webhook, configure);

    [Fact]
    public async Task The_scheduled_cycle_exports_the_configured_period_plus_lookback_days()
    {
        // Clock: 2026-03-10; current_month with 2 lookback days = 2026-02-27..2026-03-10.
        await using var h = await CreateAsync();
        var outside = Event(new DateOnly(2026, 2, 26), "openai", "gpt-4o", 5, 5, 0.5m);
        var lookback = Event(new DateOnly(2026, 2, 27), "openai", "gpt-4o", 1, 2, 0.25m);
        var today = Event(new DateOnly(2026, 3, 10), "anthropic", "claude-3-5-sonnet", 3, 4, 0.125m);
        h.Source.Events.AddRange([outside, lookback, today]);

        var result = await h.NewCycle().RunCycleAsync("schedule", "run-1", TestContext.Current.CancellationToken);

        result.Outcome.ShouldBe(CycleOutcome.Success, result.Summary);
        Truth.ServerShouldEqual(h.Meter, [lookback, today]);
    }

    [Fact]
    public async Task A_key_whose_events_disappeared_is_overwritten_with_zeros()
    {
        await using var h = await CreateAsync();
        var gone = Event(D1, "openai", "gpt-4o", 10, 10, 0.1m);
        var kept = Event(D1, "anthropic", "claude-3-5-sonnet", 1, 1, 0.01m);
        h.Source.Events.AddRange([gone, kept]);
        (await h.ExportAsync(D1, D1)).Outcome.ShouldBe(CycleOutcome.Success);

        h.Source.Events.Remove(gone);
        (await h.ExportAsync(D1, D1)).Outcome.ShouldBe(CycleOutcome.Success);

        var zeroed = h.Meter.Rows().Single(r => r.Provider == "openai");
        (zeroed.TotalTokens, zeroed.RequestCount, zeroed.CostActual).ShouldBe((0L, 0L, 0m));
        Truth.ServerShouldEqual(h.Meter, [kept]);
    }
}

/// <summary>
/// The cycle's store specs with the state in PostgreSQL (STATE_DATABASE_URL): a newer total supersedes a
/// pending one, keys whose events vanished are sent as zeros, a restart after a crash keeps the spool.
/// </summary>
public sealed class PostgresExportCycleTests : ExportCycleTests
{
    protected override Task<DeliveryHarness> CreateAsync(bool webhook = false, Func<DifyUsageExporter.Configuration.ExporterSettings, DifyUsageExporter.Configuration.ExporterSettings>? configure = null) =>
        DeliveryHarness.CreateAsync(webhook, configure, postgres: true);
}
