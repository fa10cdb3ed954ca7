using DifyUsageExporter.Sync;
using Shouldly;
using Xunit;
using static DifyUsageExporter.Tests.Sync.DeliveryHarness;

namespace DifyUsageExporter.Tests.Sync;

public class ExportCycleSupersessionTests
{
    /// <summary>The harness on this class's backend (SQLite here; PostgreSQL in the Postgres subclass).</summary>
    protected virtual Task<DeliveryHarness> CreateAsync(bool webhook = false, Func<DifyUsageExporter.Configuration.ExporterSettings, DifyUsageExporter.Configuration.ExporterSettings>? configure = null) =>
        DeliveryHarness.CreateAsync(webhook, configure);

    [Fact]
    public async Task When_Dify_fails_the_spool_is_still_resent_first_and_the_cycle_fails_with_a_notification()
    {
        await using var h = await CreateAsync(webhook: true, configure: s => s with { MaxRetry = 0 });
        var day = new DateOnly(2026, 3, 1);
        var e = Event(day, "openai", "gpt-4o", 10, 10, 0.1m);
        h.Source.Events.Add(e);
        await h.Meter.TakeDownAsync();
        (await h.ExportAsync(day, day)).Outcome.ShouldBe(CycleOutcome.Spooled);
        await h.Meter.BringUpAsync();
        h.Clock.Advance(TimeSpan.FromHours(1));
        h.Source.Failure = "Dify is down";

        var result = await h.NewCycle().RunCycleAsync("schedule", "run-x", TestContext.Current.CancellationToken);

        result.Outcome.ShouldBe(CycleOutcome.Failed);
        result.Summary.ShouldContain("Dify is down");
        Truth.ServerShouldEqual(h.Meter, [e]);
        h.Webhook!.Bodies[^1].ShouldContain("Export cycle failed");
    }

    [Fact]
    public async Task A_total_returning_to_the_acknowledged_value_supersedes_a_different_spooled_one()
    {
        await using var h = await CreateAsync(configure: s => s with { MaxRetry = 0 });
        var day = new DateOnly(2026, 3, 1);
        var base_ = Event(day, "openai", "gpt-4o", 10, 10, 0.1m);
        h.Source.Events.Add(base_);
        (await h.ExportAsync(day, day)).Outcome.ShouldBe(CycleOutcome.Success);

        var temporary = Event(day, "openai", "gpt-4o", 5, 5, 0.05m);
        h.Source.Events.Add(temporary);
        await h.Meter.TakeDownAsync();
        (await h.ExportAsync(day, day)).Outcome.ShouldBe(CycleOutcome.Spooled);

        h.Source.Events.Remove(temporary); // back to the acknowledged total while the server is still down
        (await h.ExportAsync(day, day)).Outcome.ShouldBe(CycleOutcome.Spooled);
        var spooled = (await h.Store.ReadOutboxAsync(null, null, null, TestContext.Current.CancellationToken)).ShouldHaveSingleItem();
        spooled.RecordJson.ShouldContain("\"input_tokens\":10,"); // the stale 15-token total can no longer be replayed by `spool resend`

        await h.Meter.BringUpAsync();
        (await h.ExportAsync(day, day)).Outcome.ShouldBe(CycleOutcome.Success);
        h.Meter.Requests.Where(r => r.Status == 200).ShouldAllBe(r => !r.Body.Contains("\"input_tokens\":15,"));

        Truth.ServerShouldEqual(h.Meter, [base_]);
    }
}

/// <summary>The same specs with the state in PostgreSQL (STATE_DATABASE_URL).</summary>
public sealed class PostgresExportCycleSupersessionTests : ExportCycleSupersessionTests
{
    protected override Task<DeliveryHarness> CreateAsync(bool webhook = false, Func<DifyUsageExporter.Configuration.ExporterSettings, DifyUsageExporter.Configuration.ExporterSettings>? configure = null) =>
        DeliveryHarness.CreateAsync(webhook, configure, postgres: true);
}
