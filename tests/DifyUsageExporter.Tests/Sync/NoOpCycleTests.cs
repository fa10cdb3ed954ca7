using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Sync;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>
/// Issue 12 target 5, the production cycle (extraction, delivery, reconcile) against the Dify
/// simulator: a cycle without new data in a new process (`run --once`) makes only the requests
/// that prove nothing changed, each listing is read once per cycle although reconcile uses it too,
/// one new day reconciles that day only, and the whole window is reconciled again once a day.
/// </summary>
public sealed class NoOpCycleTests
{
    private static readonly string[] ReadableModes = ["chat", "agent-chat", "completion", "advanced-chat", "workflow"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_cycle_without_new_data_reads_only_what_proves_it_and_reconciles_nothing_until_a_day_passed()
    {
        var workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 73 });
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
        var readable = workspace.Apps.Count(a => !a.Archived && ReadableModes.Contains(a.Mode));
        readable.ShouldBeGreaterThan(3);

        // 1. The first cycle reads everything and reconciles the whole window: one statistics request per readable app.
        using (var first = new DifyExportCycle(h.Settings, h.Store, h.Loggers, h.Clock, h.Secrets))
        {
            var result = await first.RunCycleAsync("once", "run-1", Ct);
            result.Outcome.ShouldBe(CycleOutcome.Success, result.Summary);
            result.Summary.ShouldContain("(whole window)");
            sim.Counters.Requests("/statistics/").ShouldBe(readable);
            // The listings reconcile needs were read by the extraction of the same cycle, not again.
            sim.Counters.Requests("/account/profile").ShouldBe(1);
            sim.Counters.ByPath.GetValueOrDefault("GET /console/api/apps").ShouldBe(sim.LowerBound.AppPages);
            sim.Counters.Requests("/console/api/agent").ShouldBeLessThanOrEqualTo(1);
            sim.Counters.Requests("/console/api/datasets").ShouldBeLessThanOrEqualTo(1);
        }

        // 2. No new data, a new process: the version probe and the login, the profile (the account's
        //    time zone), the app list, the agent and knowledge-base lists (one request each), and one
        //    listing page per readable app since its watermark. No message, run, node or statistics request.
        sim.Counters.Reset();
        var meterRequests = h.Meter.Requests.Count;
        using (var second = new DifyExportCycle(h.Settings, h.Store, h.Loggers, h.Clock, h.Secrets))
        {
            var result = await second.RunCycleAsync("once", "run-2", Ct);
            result.Outcome.ShouldBe(CycleOutcome.Success, result.Summary);
            result.Summary.ShouldContain("reconcile: not needed, no usage day changed");
        }

        var listings = sim.Counters.Requests("/chat-conversations") + sim.Counters.Requests("/completion-conversations") + sim.Counters.Requests("/workflow-app-logs");
        listings.ShouldBe(readable);
        sim.Counters.Requests("/statistics/").ShouldBe(0);
        (sim.Counters.Requests("/chat-messages") + sim.Counters.Requests("/node-executions")).ShouldBe(0);
        var expected = 2 + 1 + sim.LowerBound.AppPages + 1 + 1 + readable;
        sim.Counters.TotalRequests.ShouldBe(expected, string.Join(", ", sim.Counters.ByPath.Select(kv => $"{kv.Key} {kv.Value}")));
        h.Meter.Requests.Count.ShouldBe(meterRequests);

        // 3. One new message on 03-20 (Tokyo): reconcile covers that day only, one statistics request per app.
        var chat = workspace.Apps.First(a => a.Mode == "chat" && !a.Archived);
        var user = SimActor.Of(new SimEndUser(Guid.NewGuid(), "service_api", false, "late-customer"));
        var message = new SimMessage { Id = Guid.NewGuid(), CreatedAt = new DateTimeOffset(2026, 3, 19, 23, 30, 0, TimeSpan.Zero), MessageTokens = 120, AnswerTokens = 45, Usage = SimUsage.Priced(120, 45, chat.Model) };
        chat.Conversations.Add(new SimConversation { Id = Guid.NewGuid(), Name = "late", From = user, Messages = [message] });
        sim.NotifyDataChanged();
        sim.Counters.Reset();
        var logLines = h.Logs.Lines.Count;
        using (var third = new DifyExportCycle(h.Settings, h.Store, h.Loggers, h.Clock, h.Secrets))
        {
            var result = await third.RunCycleAsync("once", "run-3", Ct);
            result.Outcome.ShouldBe(CycleOutcome.Success, result.Summary);
            result.Summary.ShouldContain("(changed days 2026-03-20..2026-03-20)");
        }

        sim.Counters.Requests("/statistics/").ShouldBe(readable);
        h.Logs.Lines.Skip(logLines).ShouldContain(l => l.Contains("Reconciled", StringComparison.Ordinal) && l.Contains("1 app-days", StringComparison.Ordinal));

        // 4. A day after the last whole-window reconcile, a cycle without new data reconciles the whole window again.
        h.Clock.Advance(TimeSpan.FromDays(1));
        sim.Counters.Reset();
        using (var fourth = new DifyExportCycle(h.Settings, h.Store, h.Loggers, h.Clock, h.Secrets))
        {
            var result = await fourth.RunCycleAsync("once", "run-4", Ct);
            result.Outcome.ShouldBe(CycleOutcome.Success, result.Summary);
            result.Summary.ShouldContain("(whole window)");
        }

        sim.Counters.Requests("/statistics/").ShouldBe(readable);
    }
}
