using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Tests.Cli;
using DifyUsageExporter.Usage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>`verify` and ledger retention on a real store whose keys were delivered to the fake API_Meter.</summary>
/// <summary>verify's invariants on the SQLite file; <see cref="PostgresStoreVerifierTests"/> runs them on PostgreSQL.</summary>
public class StoreVerifierTests
{
    /// <summary>What the summary line calls the full and the quick form on this backend.</summary>
    protected virtual (string Full, string Quick) Forms => ("integrity_check", "quick_check");

    /// <summary>The harness on this class's backend.</summary>
    protected virtual Task<DeliveryHarness> CreateAsync(Func<ExporterSettings, ExporterSettings>? configure) => DeliveryHarness.CreateAsync(configure: configure);

    private static readonly DateOnly Day1 = new(2026, 3, 2);
    private static readonly DateOnly Day2 = new(2026, 3, 3);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Sql(StateStore store, string sql)
    {
        // The store's own connection: the SQLite file or the PostgreSQL database (plain SQL both run).
        using var connection = store.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>What `usage` does: records a new event and its day's extraction in the ledger, delivering nothing.</summary>
    private static async Task ExtractOnlyAsync(DeliveryHarness h, DifyUsageExporter.Usage.UsageEvent e)
    {
        await h.Store.ReplaceSourcesAsync(new Dictionary<string, IReadOnlyList<DifyUsageExporter.Usage.UsageEvent>> { [e.SourceId] = [e] }, Ct);
        await h.Store.RecordDayExtractionsAsync([new DayExtraction(e.UsageDate, true, [], "UTC", h.Clock.GetUtcNow())], Ct);
    }

    private async Task<DeliveryHarness> DeliveredAsync(Func<ExporterSettings, ExporterSettings>? configure = null)
    {
        var h = await CreateAsync(configure);
        h.Source.Events.Add(DeliveryHarness.Event(Day1, "openai", "gpt-4o", 100, 50, 0.25m));
        h.Source.Events.Add(DeliveryHarness.Event(Day1, "openai", "gpt-4o", 1, 2, 0.0000003m));
        h.Source.Events.Add(DeliveryHarness.Event(Day2, "anthropic", "claude-3-5-sonnet", 70, 30, 0.5m));
        (await h.ExportAsync(Day1, Day2)).Outcome.ShouldBe(CycleOutcome.Success);
        return h;
    }

    [Fact]
    public async Task A_store_after_delivery_passes_both_forms()
    {
        await using var h = await DeliveredAsync();

        var full = await CliHarness.InvokeAsync(h, "verify");
        var quick = await CliHarness.InvokeAsync(h, "verify", "--quick");

        full.ExitCode.ShouldBe(ExitCodes.Success, full.Out);
        full.Out.ShouldContain($"Verify passed ({Forms.Full}): 3 ledger events, 2 delivered keys, 0 spool rows.");
        quick.ExitCode.ShouldBe(ExitCodes.Success, quick.Out);
        quick.Out.ShouldContain(Forms.Quick);
    }

    [Fact]
    public async Task Each_broken_invariant_is_named_and_the_exit_code_is_1()
    {
        await using var h = await DeliveredAsync();
        // 1. An event whose day was never recorded as extracted.
        Sql(h.Store, """
            INSERT INTO usage_events VALUES ('orphan-1', 'src-x', 'app-1', 'a', 'chat', 'u', 'end_user', '2026-02-20T10:00:00.000Z', '2026-02-20',
                'openai', 'gpt-4o', 1, 1, '0.1', 'USD', '2026-03-10T00:00:00.000Z', '2026-03-10T00:00:00.000Z')
            """);
        // 2. A spool row without a usable record.
        Sql(h.Store, "INSERT INTO outbox (target, record_key, usage_date, record_json, content_hash, status, batch_id, created_at, updated_at) VALUES ('api_meter', '2026-03-04|openai|gpt-4o', '2026-03-04', '', 'h', 'pending', 'batch-broken', 'x', 'x')");
        // 3. A delivered total the ledger does not support, without any later change of the day.
        Sql(h.Store, "UPDATE delivered_keys SET content_hash = 'tampered', delivered_at = '2099-01-01T00:00:00.000Z' WHERE record_key = '2026-03-03|anthropic|claude-3-5-sonnet'");

        var run = await CliHarness.InvokeAsync(h, "verify");

        run.ExitCode.ShouldBe(ExitCodes.Failure);
        var violations = run.Out.Split('\n').Where(l => l.StartsWith("VIOLATION: ", StringComparison.Ordinal)).ToList();
        violations.Count.ShouldBe(3, run.Out);
        violations.ShouldContain(l => l.Contains("ledger day 2026-02-20: 1 events but no day_extractions row"));
        violations.ShouldContain(l => l.Contains("spool batch 'batch-broken'") && l.Contains("no valid record (empty)"));
        violations.ShouldContain(l => l.Contains("delivered key 2026-03-03|anthropic|claude-3-5-sonnet") && l.Contains("input 70, output 30, requests 1, cost 0.5 USD") && l.Contains("--force"));
        run.Out.ShouldContain($"Verify FAILED ({Forms.Full}): 3 violation(s).");

        var json = await CliHarness.InvokeAsync(h, "verify", "--json");
        json.ExitCode.ShouldBe(ExitCodes.Failure);
        System.Text.Json.JsonDocument.Parse(json.Out).RootElement.GetProperty("violations").GetArrayLength().ShouldBe(3);
    }

    [Fact]
    public async Task A_ledger_that_changed_after_delivery_is_a_note_and_a_pending_key_is_fine()
    {
        await using var h = await DeliveredAsync();
        // `usage` (or an incomplete day) re-extracted day 2 with new data but delivered nothing yet.
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        await ExtractOnlyAsync(h, DeliveryHarness.Event(Day2, "anthropic", "claude-3-5-sonnet", 5, 5, 0.01m));
        // Day 1's key changed too, but its new total waits in the spool.
        Sql(h.Store, "UPDATE delivered_keys SET content_hash = 'older' WHERE record_key = '2026-03-02|openai|gpt-4o'");
        Sql(h.Store, "UPDATE day_extractions SET extracted_at = '2000-01-01T00:00:00.000Z' WHERE usage_date = '2026-03-02'");
        var item = DifyUsageExporter.Sync.DeliveryService.ApiMeterItems(DifyUsageExporter.Usage.DailyAggregator.Aggregate(h.Source.Events.Where(e => e.UsageDate == Day1)));
        await h.Store.EnqueueAsync("api_meter", item, 500, false, Ct);

        var report = StoreVerifier.Verify(h.Store, full: true);

        report.Violations.ShouldBeEmpty();
        report.Notes.ShouldHaveSingleItem().ShouldContain("key 2026-03-03|anthropic|claude-3-5-sonnet: the ledger changed after the last delivery");
        report.SpoolRows.ShouldBe(1);
    }

    [Fact]
    public async Task Ledger_retention_deletes_only_old_days_whose_every_key_is_delivered_and_verify_still_passes()
    {
        await using var h = await DeliveredAsync(s => s with { LedgerRetentionDays = 35 });
        var day3 = new DateOnly(2026, 3, 4);
        var day4 = new DateOnly(2026, 3, 5);
        var day5 = new DateOnly(2026, 3, 6);
        h.Source.Events.Add(DeliveryHarness.Event(day3, "openai", "gpt-4o", 9, 9, 0.09m));
        h.Source.Events.Add(DeliveryHarness.Event(day4, "openai", "gpt-4o", 8, 8, 0.08m));
        h.Source.Events.Add(DeliveryHarness.Event(day5, "openai", "gpt-4o", 7, 7, 0.07m));
        (await h.ExportAsync(Day1, day5)).Outcome.ShouldBe(CycleOutcome.Success);
        // Day 3 now has a pending (undelivered) newer total; day 4 has a total that was never delivered.
        h.Source.Events.Add(DeliveryHarness.Event(day3, "openai", "gpt-4o", 1, 1, 0.01m));
        await h.Meter.TakeDownAsync();
        (await h.ExportAsync(Day1, day5)).Outcome.ShouldBe(CycleOutcome.Spooled);
        await h.Meter.BringUpAsync();
        await ExtractOnlyAsync(h, DeliveryHarness.Event(day4, "google", "gemini-2.0-flash", 5, 5, 0.05m));
        // 36 days later, days 1..5 are all older than LEDGER_RETENTION_DAYS.
        h.Clock.Advance(TimeSpan.FromDays(40));
        var jobs = new MaintenanceJobs(h.Settings, h.Store, new MaintenanceStatus(), h.Clock, h.Loggers.CreateLogger("test"));

        var pruned = await jobs.PruneLedgerAsync(Ct);

        pruned.Keys.Order().ShouldBe([Day1, Day2, day5]);
        pruned[Day1].ShouldBe(2);
        var left = new List<DifyUsageExporter.Usage.UsageEvent>();
        await foreach (var e in h.Store.ReadEventsAsync(Day1, day5, Ct))
        {
            left.Add(e);
        }

        left.Select(e => e.UsageDate).Distinct().Order().ShouldBe([day3, day4]);
        (await h.Store.ReadOutboxAsync(null, null, null, Ct)).ShouldNotBeEmpty();
        (await h.Store.ReadPrunedDaysAsync(Ct)).Order().ShouldBe([Day1, Day2, day5]);
        var report = StoreVerifier.Verify(h.Store, full: true);
        report.Violations.ShouldBeEmpty();
        report.Notes.ShouldBeEmpty();
        // A second run finds nothing more to delete; LEDGER_RETENTION_DAYS=0 never deletes.
        (await jobs.PruneLedgerAsync(Ct)).ShouldBeEmpty();
        var keepForever = new MaintenanceJobs(h.Settings with { LedgerRetentionDays = 0 }, h.Store, new MaintenanceStatus(), h.Clock, h.Loggers.CreateLogger("test"));
        (await keepForever.PruneLedgerAsync(Ct)).ShouldBeEmpty();

        // Dify no longer has day 1 (purged): a cycle over the window must not overwrite its delivered totals with zeros.
        var day1Row = h.Meter.Rows().Single(r => r.UsageDate == "2026-03-02");
        h.Source.Events.RemoveAll(e => e.UsageDate == Day1);
        await h.ExportAsync(Day1, day5);
        h.Meter.Rows().Single(r => r.UsageDate == "2026-03-02").ShouldBe(day1Row);
        h.Logs.Lines.ShouldContain(l => l.Contains("Usage day 2026-03-02 is not exported: ledger retention removed its events"));
    }
    [Fact]
    public async Task A_stored_daily_total_that_differs_from_its_events_is_a_violation_and_repair_lets_the_next_cycle_re_sum_it()
    {
        await using var h = await DeliveredAsync();
        var delivered = h.Meter.Rows().ToList();
        // The cycle sends from daily_totals; make two of them disagree with the events behind them.
        Sql(h.Store, "UPDATE daily_totals SET input_tokens = 999 WHERE usage_date = '2026-03-02'");
        Sql(h.Store, "DELETE FROM daily_totals WHERE usage_date = '2026-03-03'");

        var run = await CliHarness.InvokeAsync(h, "verify");

        run.ExitCode.ShouldBe(ExitCodes.Failure, run.Out);
        var violations = run.Out.Split('\n').Where(l => l.StartsWith("VIOLATION: ", StringComparison.Ordinal)).ToList();
        violations.Count.ShouldBe(2, run.Out);
        // Day 1's events: 100+1 input, 50+2 output, 2 requests; day 2's: 70/30, 1 request.
        violations.ShouldContain(l => l.Contains("daily total 2026-03-02|openai|gpt-4o: stored (input 999, output 52, requests 2") && l.Contains("add up to (input 101, output 52, requests 2") && l.Contains("verify --repair"));
        violations.ShouldContain(l => l.Contains("daily total 2026-03-03|anthropic|claude-3-5-sonnet: stored nothing") && l.Contains("add up to (input 70, output 30, requests 1, cost 0.5 USD)"));

        (await CliHarness.InvokeAsync(h, "verify", "--file", h.Store.Path, "--repair")).ExitCode.ShouldBe(ExitCodes.Usage);
        var repair = await CliHarness.InvokeAsync(h, "verify", "--repair");
        repair.Out.ShouldContain("repair: marked 2026-03-02, 2026-03-03 for re-aggregation");
        var again = await CliHarness.InvokeAsync(h, "verify");
        again.ExitCode.ShouldBe(ExitCodes.Success, again.Out);

        // The next cycle re-sums both days from their events: API_Meter keeps the true totals.
        (await h.ExportAsync(Day1, Day2)).Outcome.ShouldBe(CycleOutcome.Success);
        h.Meter.Rows().ShouldBe(delivered);
        var after = await CliHarness.InvokeAsync(h, "verify");
        after.ExitCode.ShouldBe(ExitCodes.Success, after.Out);
    }

    [Fact]
    public async Task A_day_marked_for_re_aggregation_is_not_judged_until_the_next_cycle_re_sums_it()
    {
        await using var h = await DeliveredAsync();
        Sql(h.Store, "UPDATE daily_totals SET output_tokens = 1 WHERE usage_date = '2026-03-02'");
        Sql(h.Store, "INSERT INTO dirty_days (usage_date) VALUES ('2026-03-02')");

        StoreVerifier.Verify(h.Store, full: true).Violations.ShouldBeEmpty();

        // Once the mark is gone without a re-sum, the stale figure is found.
        Sql(h.Store, "DELETE FROM dirty_days");
        StoreVerifier.Verify(h.Store, full: false).StaleTotalDays.ShouldBe([Day1]);
    }
}

/// <summary>The same invariants with the state in PostgreSQL: verify works there too (without SQLite's page check).</summary>
public sealed class PostgresStoreVerifierTests : StoreVerifierTests
{
    protected override (string Full, string Quick) Forms => ("PostgreSQL, invariants", "PostgreSQL, invariants");

    protected override Task<DeliveryHarness> CreateAsync(Func<ExporterSettings, ExporterSettings>? configure) => DeliveryHarness.CreateAsync(configure: configure, postgres: true);
}
