using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Usage;
using Shouldly;
using Simulators.Meter;
using Xunit;
using static DifyUsageExporter.Tests.Sync.DeliveryHarness;

namespace DifyUsageExporter.Tests.Sync;

public partial class ExportCycleTests
{
    private static readonly DateOnly D1 = new(2026, 3, 1);
    private static readonly DateOnly D2 = new(2026, 3, 2);
    private static readonly DateOnly D3 = new(2026, 3, 3);

    private static List<UsageEvent> MixedEvents() =>
    [
        Event(D1, "langgenius/openai/openai", "gpt-4o", 100, 20, 0.00012345m, app: "app-a", user: "u1"),
        Event(D1, "OpenAI", "GPT-4o ", 50, 5, 0.00000005m, app: "app-b", user: "u2"),
        Event(D1, "openai", "gpt-4o", 7, 3, 0.0000001m, app: "app-a", user: "u3"),
        Event(D1, "anthropic", "claude-3-5-sonnet", 1000, 300, 0.0105m, app: "app-a", user: "u1"),
        Event(D2, " Anthropic ", "Claude-3-5-Sonnet", 10, 1, 0.00000049m, app: "app-c", user: "u1"),
        Event(D2, "langgenius/anthropic/anthropic", "claude-3-5-sonnet", 20, 2, 0.00000002m, app: "app-a", user: "u4"),
        Event(D2, "", "", 33, 0, 0m, app: "app-w", user: "u5"),
        Event(D3, "openai", "gpt-4o", 1, 1, 6E-7m, app: "app-a", user: "u1"),
        Event(D3, "openai", "gpt-4o", 2, 2, 0.123456789m, app: "app-b", user: "u1"),
    ];

    [Fact]
    public async Task Export_delivers_each_days_complete_totals_per_key_in_batches()
    {
        await using var h = await CreateAsync(configure: s => s with { ApiMeterBatchSize = 2 });
        h.Source.Events.AddRange(MixedEvents());

        var result = await h.ExportAsync(D1, D3);

        result.Outcome.ShouldBe(CycleOutcome.Success, result.Summary);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
        var requests = h.Meter.Requests;
        requests.ShouldAllBe(r => r.Status == 200 && r.RecordCount <= 2 && r.Path == FakeApiMeter.DefaultPath && r.Authorization == "Bearer " + Token);
        requests.Sum(r => r.RecordCount).ShouldBe(5);
        requests.ShouldAllBe(r => !r.Body.Contains("source_app_id") && !System.Text.RegularExpressions.Regex.IsMatch(r.Body, "\"cost_actual\":[^,}]*[eE]"));
        requests.ShouldContain(r => r.Body.Contains("\"cost_actual\":0.0000005,")); // 0.00000049 + 0.00000002 = 0.00000051 → 7 decimals
        h.Meter.Rows().Single(r => r.UsageDate == "2026-03-03").SourceEventId.ShouldStartWith("dify-2026-03-03-openai-gpt-4o-");
        (await h.Store.ReadOutboxAsync(null, null, null, TestContext.Current.CancellationToken)).ShouldBeEmpty();
    }

    [Fact]
    public async Task The_same_export_twice_sends_nothing_the_second_time_and_force_resends_the_same_totals()
    {
        await using var h = await CreateAsync();
        h.Source.Events.AddRange(MixedEvents());
        (await h.ExportAsync(D1, D3)).Outcome.ShouldBe(CycleOutcome.Success);
        var first = h.Meter.Rows();
        var sent = h.Meter.Requests.Count;

        var again = await h.ExportAsync(D1, D3);

        again.Outcome.ShouldBe(CycleOutcome.Success);
        again.KeysChanged.ShouldBe(0);
        h.Meter.Requests.Count.ShouldBe(sent);

        var forced = await h.ExportAsync(D1, D3, force: true);
        forced.RecordsDelivered.ShouldBe(5);
        h.Meter.Rows().Select(r => r with { Writes = 0 }).ShouldBe(first.Select(r => r with { Writes = 0 }));
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
    }

    [Fact]
    public async Task A_503_sequence_is_retried_with_backoff_and_delivered_in_the_same_cycle()
    {
        await using var h = await CreateAsync();
        h.Source.Events.AddRange(MixedEvents());
        h.Meter.Enqueue(MeterFault.ServiceUnavailable, MeterFault.ServiceUnavailable, MeterFault.ServiceUnavailable);

        var result = await h.ExportAsync(D1, D3);

        result.Outcome.ShouldBe(CycleOutcome.Success, result.Summary);
        h.Meter.Requests.Count(r => r.Status == 503).ShouldBe(3);
        h.Clock.Delays.Count.ShouldBe(3);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
    }

    [Fact]
    public async Task A_429_waits_for_Retry_After_in_seconds_or_as_an_HTTP_date_and_caps_it()
    {
        await using var h = await CreateAsync();
        h.Source.Events.AddRange(MixedEvents());
        var start = h.Clock.GetUtcNow();
        // The clock moves only by the client's waits: 7 s, then the date 30 s later, then the cap.
        h.Meter.Enqueue(
            MeterFault.RateLimited("7"),
            MeterFault.RateLimited(start.AddSeconds(37).ToString("r", System.Globalization.CultureInfo.InvariantCulture)),
            MeterFault.RateLimited("3600"));

        var result = await h.ExportAsync(D1, D3);

        result.Outcome.ShouldBe(CycleOutcome.Success, result.Summary);
        h.Clock.Delays.ShouldBe([TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)]);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
    }

    [Fact]
    public async Task Timeouts_leave_the_batch_in_the_spool_and_the_next_cycle_delivers_it()
    {
        await using var h = await CreateAsync(configure: s => s with { ExternalApiTimeout = TimeSpan.FromMilliseconds(300), MaxRetry = 1 });
        h.Source.Events.AddRange(MixedEvents());
        h.Meter.PersistentFault = MeterFault.SlowBy(TimeSpan.FromSeconds(20));

        var first = await h.ExportAsync(D1, D3);

        first.Outcome.ShouldBe(CycleOutcome.Spooled, first.Summary);
        first.SpoolRows.ShouldBe(5);
        h.Meter.Rows().ShouldBeEmpty();
        h.Logs.Lines.ShouldContain(l => l.Contains("EXTERNAL_API_TIMEOUT_MS"));

        h.Meter.PersistentFault = null;
        var second = await h.ExportAsync(D1, D3);

        second.Outcome.ShouldBe(CycleOutcome.Success, second.Summary);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
    }

    [Fact]
    public async Task A_server_down_for_a_whole_cycle_gets_everything_when_it_is_back_and_notifications_follow()
    {
        await using var h = await CreateAsync(webhook: true);
        h.Source.Events.AddRange(MixedEvents());
        await h.Meter.TakeDownAsync();

        var down = await h.ExportAsync(D1, D3);

        down.Outcome.ShouldBe(CycleOutcome.Spooled, down.Summary);
        (await h.Store.ReadOutboxAsync(null, null, OutboxRow.Pending, TestContext.Current.CancellationToken)).Count.ShouldBe(5);
        h.Webhook!.Bodies.Count.ShouldBe(1);
        h.Webhook.Bodies[0].ShouldContain("spool");

        await h.Meter.BringUpAsync();
        h.Clock.Advance(TimeSpan.FromHours(1));
        var back = await h.ExportAsync(D1, D3);

        back.Outcome.ShouldBe(CycleOutcome.Success, back.Summary);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
        h.Webhook.Bodies.Count.ShouldBe(2);
        h.Webhook.Bodies[1].ShouldContain("Recovered");
    }

    [Fact]
    public async Task Killed_between_send_and_mark_resends_after_restart_without_double_counting()
    {
        await using var h = await CreateAsync(configure: s => s with { MaxRetry = 0 });
        h.Source.Events.AddRange(MixedEvents());
        h.Meter.Enqueue(MeterFault.ApplyThenAbort);

        var crashed = await h.ExportAsync(D1, D3);

        crashed.Outcome.ShouldBe(CycleOutcome.Spooled, crashed.Summary);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events); // applied, but never acknowledged
        h.Restart();

        var resumed = await h.NewCycle().RunCycleAsync("schedule", "run-2", TestContext.Current.CancellationToken);

        resumed.Outcome.ShouldBe(CycleOutcome.Success, resumed.Summary);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
        h.Meter.Rows().ShouldAllBe(r => r.Writes == 2);
        (await h.Store.ReadOutboxAsync(null, null, null, TestContext.Current.CancellationToken)).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_batch_written_to_the_spool_but_never_sent_goes_out_after_a_restart()
    {
        await using var h = await CreateAsync();
        h.Source.Events.AddRange(MixedEvents());
        await h.Source.ExtractAsync(D1, D3, true, TestContext.Current.CancellationToken);
        var totals = DailyAggregator.Aggregate(await h.Store.ReadEventsAsync(D1, D3, TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken));
        await h.NewDelivery().EnqueueApiMeterAsync(DifyUsageExporter.Sync.DeliveryService.ApiMeterItems(totals), false, TestContext.Current.CancellationToken);
        h.Restart(); // the process died right after writing the batch

        var resumed = await h.ExportAsync(D1, D3);

        resumed.Outcome.ShouldBe(CycleOutcome.Success, resumed.Summary);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
        h.Meter.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_newer_total_supersedes_the_pending_older_one()
    {
        await using var h = await CreateAsync();
        h.Source.Events.AddRange(MixedEvents());
        await h.Meter.TakeDownAsync();
        (await h.ExportAsync(D1, D3)).Outcome.ShouldBe(CycleOutcome.Spooled);
        var late = Event(D3, "openai", "gpt-4o", 1000, 1000, 1m, app: "app-z");
        h.Source.Events.Add(late);

        (await h.ExportAsync(D1, D3)).Outcome.ShouldBe(CycleOutcome.Spooled);
        var pending = await h.Store.ReadOutboxAsync(null, null, null, TestContext.Current.CancellationToken);
        pending.Count.ShouldBe(5);
        pending.Single(r => r.RecordKey == "2026-03-03|openai|gpt-4o").RecordJson.ShouldContain("\"input_tokens\":1003");

        await h.Meter.BringUpAsync();
        (await h.ExportAsync(D1, D3)).Outcome.ShouldBe(CycleOutcome.Success);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
        h.Meter.Requests.Where(r => r.Status == 200).ShouldAllBe(r => !r.Body.Contains("\"input_tokens\":3,"));
    }

    [Fact]
    public async Task After_MAX_SPOOL_RETRIES_cycles_with_unexplained_answers_a_batch_is_a_dead_letter_kept_notified_and_not_resent()
    {
        await using var h = await CreateAsync(webhook: true, configure: s => s with { MaxRetry = 0, MaxSpoolRetries = 2, NotifyMinInterval = TimeSpan.Zero });
        h.Source.Events.AddRange(MixedEvents());
        h.Meter.PersistentFault = MeterFault.SuccessFalse;

        (await h.ExportAsync(D1, D3)).Outcome.ShouldBe(CycleOutcome.Spooled);
        (await h.Store.ReadOutboxAsync(null, null, OutboxRow.Pending, TestContext.Current.CancellationToken)).Count.ShouldBe(5);
        (await h.ExportAsync(D1, D3)).Outcome.ShouldBe(CycleOutcome.Spooled);

        var dead = await h.Store.ReadOutboxAsync(null, null, OutboxRow.Dead, TestContext.Current.CancellationToken);
        dead.Count.ShouldBe(5);
        dead.ShouldAllBe(r => r.FailedCycles == 2 && r.LastError!.Contains("\"success\": false") && r.LastError.Contains("Failed to store usage records"));
        h.Webhook!.Bodies.ShouldContain(b => b.Contains("dead letter"));
        var requests = h.Meter.Requests.Count;

        var third = await h.ExportAsync(D1, D3);

        third.Outcome.ShouldBe(CycleOutcome.Spooled);
        third.DeadLetterRows.ShouldBe(5);
        h.Meter.Requests.Count.ShouldBe(requests);
        h.Meter.Rows().ShouldBeEmpty();
    }

    [Fact]
    public async Task Incomplete_days_are_not_delivered_until_their_extraction_completes()
    {
        await using var h = await CreateAsync();
        h.Source.Events.AddRange(MixedEvents());
        h.Source.FailingDays.Add(D2);

        var partial = await h.ExportAsync(D1, D3);

        partial.Outcome.ShouldBe(CycleOutcome.Failed);
        partial.IncompleteDays.ShouldBe([D2]);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events, d => d != D2);
        h.Meter.Rows().ShouldNotContain(r => r.UsageDate == "2026-03-02");

        h.Source.FailingDays.Clear();
        (await h.ExportAsync(D1, D3)).Outcome.ShouldBe(CycleOutcome.Success);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
    }

    [Fact]
    public async Task Failure_notifications_are_rate_limited_and_carry_no_secret()
    {
        await using var h = await CreateAsync(webhook: true, configure: s => s with { MaxRetry = 0 });
        h.Secrets.Add(Token);
        h.Source.Events.AddRange(MixedEvents());
        h.Meter.PersistentFault = new MeterFault(MeterFaultKind.Status, 503);
        h.Meter.Enqueue(new MeterFault(MeterFaultKind.Status, 400));

        await h.ExportAsync(D1, D3);
        h.Clock.Advance(TimeSpan.FromMinutes(5));
        await h.ExportAsync(D1, D3);

        var failures = h.Webhook!.Bodies.Where(b => b.Contains("Delivery incomplete")).ToList();
        failures.Count.ShouldBe(1);
        h.Clock.Advance(TimeSpan.FromMinutes(16));
        await h.ExportAsync(D1, D3);
        h.Webhook.Bodies.Count(b => b.Contains("Delivery incomplete")).ShouldBe(2);

        h.Webhook.Bodies.ShouldAllBe(b => !b.Contains(Token) && !b.Contains("secret-hook-token") && b.Contains("\"text\"") && b.Contains("\"content\""));
        h.Logs.Lines.ShouldAllBe(l => !l.Contains(Token));
    }
}
