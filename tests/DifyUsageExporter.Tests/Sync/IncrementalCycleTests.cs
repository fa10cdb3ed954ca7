using System.Globalization;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Sync;
using Shouldly;
using Simulators.Dify;
using Simulators.Meter;
using Xunit;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>
/// Scheduled cycles against both simulators: a re-run with no new data reads no event from Dify or
/// the ledger and sends nothing; a re-run after one new day reads and sends only that day. The fake
/// API_Meter always holds the generator's truth.
/// </summary>
public sealed class IncrementalCycleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void MeterShouldHoldTheTruth(FakeApiMeter meter, DifySimulator sim, DateOnly from, DateOnly to)
    {
        var truth = sim.Truth.ByDayProviderModel(sim.AccountZone, from, to);
        var rows = meter.Rows().ToDictionary(r => (r.UsageDate, r.Provider, r.Model));
        rows.Keys.OrderBy(k => k).ShouldBe(truth.Select(t => (Day(t.Date), t.Provider, t.Model)).OrderBy(k => k));
        foreach (var t in truth)
        {
            var row = rows[(Day(t.Date), t.Provider, t.Model)];
            (row.InputTokens, row.OutputTokens, row.RequestCount, row.CostActual)
                .ShouldBe((t.InputTokens, t.OutputTokens, (long)t.RequestCount, Math.Round(t.Cost, 7, MidpointRounding.AwayFromZero)), $"{t.Date} {t.Provider} {t.Model}");
        }
    }

    private static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_rerun_without_new_data_reads_and_sends_nothing_and_a_new_day_costs_only_that_day()
    {
        var workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 71 });
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = workspace }, Ct);
        await using var h = await DeliveryHarness.CreateAsync(configure: s => s with
        {
            DifyBaseUrl = sim.BaseUrl,
            DifyEmail = sim.Options.Email,
            DifyPassword = sim.Options.Password,
            DifyFetchRetryCount = 1,
            DifyFetchRetryDelay = TimeSpan.FromMilliseconds(1),
            FetchPeriod = FetchPeriod.CurrentMonth,
            LookbackDays = 2,
        });
        // "Now" is after the generated data (2026-03-01..03-14): the window is 02-27..03-20 (Tokyo).
        h.Clock.Advance(new DateTimeOffset(2026, 3, 20, 0, 0, 0, TimeSpan.Zero) - h.Clock.GetUtcNow());
        using var source = DifyUsageSource.Create(h.Settings, h.Store, h.Loggers, h.Clock, h.Secrets);
        var cycle = new ExportCycle(h.Settings, h.Store, source, h.NewDelivery(), h.Loggers, h.Clock);
        var from = new DateOnly(2026, 2, 27);
        var to = new DateOnly(2026, 3, 20);

        // 1. The first cycle reads everything and delivers the truth.
        var first = await cycle.RunCycleAsync("schedule", "run-1", Ct);
        first.Outcome.ShouldBe(CycleOutcome.Success, first.Summary);
        first.Summary.ShouldContain("Dify concurrency");
        MeterShouldHoldTheTruth(h.Meter, sim, from, to);
        h.Logs.Lines.ShouldContain(l => l.Contains("Re-aggregated", StringComparison.Ordinal) && !l.Contains("Re-aggregated 0 ", StringComparison.Ordinal));

        // 2. No new data: no message, run or node is read from Dify, no event from the ledger, nothing is sent.
        var meterRequests = h.Meter.Requests.Count;
        sim.Counters.Reset();
        var logLines = h.Logs.Lines.Count;
        var second = await cycle.RunCycleAsync("schedule", "run-2", Ct);
        second.Outcome.ShouldBe(CycleOutcome.Success, second.Summary);
        h.Meter.Requests.Count.ShouldBe(meterRequests);
        (sim.Counters.Requests("/chat-messages") + sim.Counters.Requests("/node-executions") + sim.Counters.Requests("/completion-conversations/")).ShouldBe(0);
        sim.Counters.Requests("/account/profile").ShouldBe(1);
        h.Logs.Lines.Skip(logLines).ShouldContain(l => l.Contains("Re-aggregated 0 changed usage day(s) from 0 ledger events", StringComparison.Ordinal));
        MeterShouldHoldTheTruth(h.Meter, sim, from, to);

        // 3. One new conversation on 03-20 (Tokyo): one message page is read, one day re-aggregated
        //    from its one event, and only that day's key is sent.
        var chat = workspace.Apps.First(a => a.Mode == "chat" && !a.Archived);
        var user = SimActor.Of(new SimEndUser(Guid.NewGuid(), "service_api", false, "late-customer"));
        var message = new SimMessage { Id = Guid.NewGuid(), CreatedAt = new DateTimeOffset(2026, 3, 19, 23, 30, 0, TimeSpan.Zero), MessageTokens = 120, AnswerTokens = 45, Usage = SimUsage.Priced(120, 45, chat.Model) };
        chat.Conversations.Add(new SimConversation { Id = Guid.NewGuid(), Name = "late", From = user, Messages = [message] });
        sim.NotifyDataChanged();
        sim.Counters.Reset();
        logLines = h.Logs.Lines.Count;
        var third = await cycle.RunCycleAsync("schedule", "run-3", Ct);
        third.Outcome.ShouldBe(CycleOutcome.Success, third.Summary);
        sim.Counters.Requests("/chat-messages").ShouldBe(1);
        sim.Counters.Requests("/node-executions").ShouldBe(0);
        h.Logs.Lines.Skip(logLines).ShouldContain(l => l.Contains("Re-aggregated 1 changed usage day(s) from 1 ledger events", StringComparison.Ordinal));
        var sent = h.Meter.Requests.Skip(meterRequests).Where(r => r.Status == 200).ToList();
        sent.Count.ShouldBe(1);
        sent[0].RecordCount.ShouldBe(1);
        sent[0].Body.ShouldContain("2026-03-20");
        MeterShouldHoldTheTruth(h.Meter, sim, from, to);
    }
}
