using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Tests.Cli;
using DifyUsageExporter.Usage;
using Shouldly;
using Simulators.Meter;
using Xunit;
using static DifyUsageExporter.Tests.Sync.DeliveryHarness;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>
/// The dead-letter policy of docs/delivery.md against the fake API_Meter: only permanent rejections
/// (400/422, isolated by splitting) and repeated unexplained answers make dead letters; outages,
/// timeouts, 408/429/5xx and untried batches never do.
/// </summary>
public class DeadLetterPolicyTests
{
    /// <summary>The harness on this class's backend (SQLite here; PostgreSQL in the Postgres subclass).</summary>
    protected virtual Task<DeliveryHarness> CreateAsync(bool webhook = false, Func<DifyUsageExporter.Configuration.ExporterSettings, DifyUsageExporter.Configuration.ExporterSettings>? configure = null) =>
        DeliveryHarness.CreateAsync(webhook, configure);

    private static readonly DateOnly D1 = new(2026, 3, 1);
    private static readonly DateOnly D2 = new(2026, 3, 2);
    private static readonly DateOnly D3 = new(2026, 3, 3);

    /// <summary>Seven keys over three days (one request of 7 records, or 4 batches of 2).</summary>
    private static List<UsageEvent> Events() =>
    [
        Event(D1, "openai", "gpt-4o", 100, 20, 0.0012m),
        Event(D1, "openai", "gpt-4o-mini", 10, 2, 0.0001m),
        Event(D1, "anthropic", "claude-3-5-sonnet", 1000, 300, 0.0105m),
        Event(D2, "openai", "gpt-4o", 5, 5, 0.00005m),
        Event(D2, "openai", "bad-model", 7, 7, 0.0007m),
        Event(D3, "anthropic", "claude-3-5-sonnet", 3, 1, 0.00002m),
        Event(D3, "openai", "gpt-4o-mini", 1, 1, 0.000001m),
    ];

    [Fact]
    public async Task An_outage_longer_than_MAX_SPOOL_RETRIES_cycles_makes_no_dead_letter_and_the_first_cycle_after_it_delivers_everything()
    {
        await using var h = await CreateAsync(configure: s => s with { MaxRetry = 0, MaxSpoolRetries = 2, ApiMeterBatchSize = 2 });
        h.Source.Events.AddRange(Events());
        await h.Meter.TakeDownAsync();

        for (var cycle = 0; cycle < 5; cycle++)
        {
            (await h.ExportAsync(D1, D3)).Outcome.ShouldBe(CycleOutcome.Spooled);
            h.Clock.Advance(TimeSpan.FromDays(1));
        }

        var spool = await h.Store.ReadOutboxAsync(null, null, null, TestContext.Current.CancellationToken);
        spool.Count.ShouldBe(7);
        spool.ShouldAllBe(r => r.Status == OutboxRow.Pending && r.FailedCycles == 0);
        // Each cycle tries the first batch once; the three behind it are never attempted nor charged.
        spool.GroupBy(r => r.BatchId).Count(g => g.All(r => r.Attempts == 0)).ShouldBe(3);
        h.Logs.Lines.ShouldNotContain(l => l.StartsWith("Error 4004 ", StringComparison.Ordinal));

        await h.Meter.BringUpAsync();
        var back = await h.ExportAsync(D1, D3);

        back.Outcome.ShouldBe(CycleOutcome.Success, back.Summary);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
    }

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Server_errors_rate_limits_and_timeouts_in_every_cycle_never_make_a_dead_letter(int status)
    {
        await using var h = await CreateAsync(configure: s => s with { MaxRetry = 0, MaxSpoolRetries = 1 });
        h.Source.Events.AddRange(Events());
        h.Meter.PersistentFault = status == 429 ? MeterFault.RateLimited("0") : MeterFault.Http(status);

        for (var cycle = 0; cycle < 3; cycle++)
        {
            (await h.ExportAsync(D1, D3)).DeadLetterRows.ShouldBe(0);
        }

        (await h.Store.ReadOutboxAsync(null, null, OutboxRow.Pending, TestContext.Current.CancellationToken)).Count.ShouldBe(7);
        h.Meter.PersistentFault = null;
        (await h.ExportAsync(D1, D3)).Outcome.ShouldBe(CycleOutcome.Success);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(422)]
    public async Task A_validation_rejection_is_split_the_rest_is_delivered_and_only_the_rejected_key_is_a_dead_letter(int status)
    {
        await using var h = await CreateAsync(configure: s => s with { MaxRetry = 0 });
        h.Source.Events.AddRange(Events());
        h.Meter.PersistentFault = MeterFault.RejectModel("bad-model", status);

        var result = await h.ExportAsync(D1, D3);

        result.Outcome.ShouldBe(CycleOutcome.Spooled, result.Summary);
        result.DeadLetterRows.ShouldBe(1);
        var stored = h.Meter.Rows();
        stored.Count.ShouldBe(6);
        stored.ShouldNotContain(r => r.Model == "bad-model");
        Truth.ServerShouldEqual(h.Meter, h.Source.Events.Where(e => e.Model != "bad-model"));
        var dead = (await h.Store.ReadOutboxAsync(null, null, OutboxRow.Dead, TestContext.Current.CancellationToken)).Single();
        dead.RecordKey.ShouldBe("2026-03-02|openai|bad-model");
        dead.BatchId.ShouldEndWith(StateStore.RejectedSuffix);
        dead.LastError!.ShouldContain($"HTTP {status}");
        dead.LastError!.ShouldContain("unknown model bad-model");

        var list = await CliHarness.InvokeAsync(h, "spool", "list");
        list.Out.ShouldContain($"dead key 2026-03-02|openai|bad-model: HTTP {status}");
        list.Out.ShouldContain("records[0].model: unknown model bad-model");

        // Unchanged: not sent again, a warning each cycle, exit 3 from run --once/export.
        var requests = h.Meter.Requests.Count;
        h.Clock.Advance(TimeSpan.FromDays(2));
        var again = await h.ExportAsync(D1, D3);
        again.Outcome.ShouldBe(CycleOutcome.Spooled);
        CycleExecutor.ExitCodeFor(new CycleResult(again.Outcome, again.Summary)).ShouldBe(ExitCodes.Spooled);
        h.Meter.Requests.Count.ShouldBe(requests);
        h.Logs.Lines.Count(l => l.StartsWith("Warning 4011 1 dead letters wait", StringComparison.Ordinal) && l.Contains(dead.BatchId) && l.Contains("2026-03-10")).ShouldBe(2);

        // Its total changes (and API_Meter learnt the model): re-sent without an operator.
        h.Meter.PersistentFault = null;
        h.Source.Events.Add(Event(D2, "openai", "bad-model", 1, 1, 0.0001m, app: "late"));
        var changed = await h.ExportAsync(D1, D3);

        changed.Outcome.ShouldBe(CycleOutcome.Success, changed.Summary);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
    }

    [Fact]
    public async Task Spool_resend_still_forces_a_dead_letter_out()
    {
        await using var h = await CreateAsync(configure: s => s with { MaxRetry = 0 });
        h.Source.Events.AddRange(Events());
        h.Meter.PersistentFault = MeterFault.RejectModel("bad-model");
        await h.ExportAsync(D1, D3);
        var dead = (await h.Store.ReadOutboxAsync(null, null, OutboxRow.Dead, TestContext.Current.CancellationToken)).Single();

        h.Meter.PersistentFault = null;
        var resend = await CliHarness.InvokeAsync(h, "spool", "resend", dead.BatchId);

        resend.ExitCode.ShouldBe(ExitCodes.Success, resend.Out + resend.Error);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
    }

    [Fact]
    public async Task A_2xx_that_does_not_confirm_is_retried_next_cycle_not_marked_delivered()
    {
        await using var h = await CreateAsync(configure: s => s with { MaxRetry = 3 });
        h.Source.Events.AddRange(Events());
        h.Meter.PersistentFault = MeterFault.Html200;

        var first = await h.ExportAsync(D1, D3);

        first.Outcome.ShouldBe(CycleOutcome.Spooled, first.Summary);
        first.Summary.ShouldContain("not a JSON object");
        h.Meter.Requests.Count.ShouldBe(1); // not retried within the cycle
        (await h.Store.ReadOutboxAsync(null, null, OutboxRow.Pending, TestContext.Current.CancellationToken)).ShouldAllBe(r => r.FailedCycles == 1 && r.LastError!.Contains("<html>"));

        h.Meter.PersistentFault = MeterFault.CountZero;
        (await h.ExportAsync(D1, D3)).Outcome.ShouldBe(CycleOutcome.Spooled);
        h.Meter.PersistentFault = null;
        (await h.ExportAsync(D1, D3)).Outcome.ShouldBe(CycleOutcome.Success);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
    }

    [Fact]
    public async Task Dead_letters_an_earlier_version_made_during_an_outage_are_sent_after_the_upgrade()
    {
        await using var h = await CreateAsync(configure: s => s with { MaxRetry = 0 });
        h.Source.Events.AddRange(Events());
        var ct = TestContext.Current.CancellationToken;
        await h.Source.ExtractAsync(D1, D3, true, ct);
        var totals = DailyAggregator.Aggregate(await h.Store.ReadEventsAsync(D1, D3, ct).ToListAsync(ct));
        await h.Store.EnqueueAsync("api_meter", DifyUsageExporter.Sync.DeliveryService.ApiMeterItems(totals), 500, false, ct);
        // What the old policy left: every batch dead after "not attempted: the target was unreachable".
        await h.Store.MarkFailedAsync(await h.Store.ReadOutboxAsync(null, null, null, ct), 0, "not attempted: the target was unreachable earlier in this cycle", true, 1, ct);
        (await h.Store.ReadOutboxAsync(null, null, OutboxRow.Dead, ct)).Count.ShouldBe(7);

        var upgraded = await h.ExportAsync(D1, D3);

        upgraded.Outcome.ShouldBe(CycleOutcome.Success, upgraded.Summary);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
        h.Logs.Lines.ShouldContain(l => l.StartsWith("Warning 4012 7 dead letters", StringComparison.Ordinal));
    }
}

/// <summary>The same specs with the state in PostgreSQL (STATE_DATABASE_URL).</summary>
public sealed class PostgresDeadLetterPolicyTests : DeadLetterPolicyTests
{
    protected override Task<DeliveryHarness> CreateAsync(bool webhook = false, Func<DifyUsageExporter.Configuration.ExporterSettings, DifyUsageExporter.Configuration.ExporterSettings>? configure = null) =>
        DeliveryHarness.CreateAsync(webhook, configure, postgres: true);
}
