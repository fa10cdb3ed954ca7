using DifyUsageExporter.Dify;
using DifyUsageExporter.Storage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>The whole extractor over the fixture files (served by FakeDify); expectations computed by hand from the JSON.</summary>
public class FixtureExtractionTests
{
    private static readonly string[] ExpectedIds =
    [
            // Support Bot message 2: classifier, llm, agent nodes of run 4f3e…
            "a1000000-0000-4000-8000-000000000002", "a1000000-0000-4000-8000-000000000003", "a1000000-0000-4000-8000-000000000004",
            // Support Bot message 1: its run has no node executions → message fallback
            "d4c3b2a1-9f8e-4d7c-8b6a-5f4e3d2c1b0a",
            // Invoice Extractor runs with tokens but no node data here → run fallback (the failed 0-token run is no event)
            "77665544-3322-4110-9ffe-eeddccbbaa99", "99887766-5544-4332-9bbc-ddeeff001122"
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(List<DifyUsageExporter.Usage.UsageEvent> Events, DifyUsageExporter.Usage.ExtractionReport Report, FakeDify Fake)> ExtractAsync(TimeZoneInfo? usageZone, DateOnly from, DateOnly to)
    {
        using var dir = new TempDir();
        var time = new FakeClock(new DateTimeOffset(2025, 11, 23, 0, 0, 0, TimeSpan.Zero), FakeTimers.Real);
        var fake = new FakeDify(time, FakeAuthMode.CookieBase64) { Secure = true };
        var settings = DifyAuthTests.Settings() with { DataDir = dir.Path, UsageTimeZone = usageZone };
        using var store = StateStore.Open(dir.Path, time);
        using var source = DifyUsageSource.Create(settings, store, new FakeLogs(), time, new(), fake);
        var report = await source.ExtractAsync(from, to, fullRead: false, Ct);
        var events = await store.ReadEventsAsync(from, to, Ct).ToListAsync(Ct);
        return (events, report, fake);
    }

    [Fact]
    public async Task Tokyo_day_2025_11_21_holds_every_fixture_event()
    {
        var day = new DateOnly(2025, 11, 21);
        var (events, report, fake) = await ExtractAsync(null, day, day);

        report.TimeZone.Id.ShouldBe("Asia/Tokyo");
        report.Failures.ShouldBeEmpty();
        report.AppsRead.ShouldBe(5);
        events.Select(e => e.EventId).Order(StringComparer.Ordinal).ShouldBe(ExpectedIds.Order(StringComparer.Ordinal));
        events.Sum(e => e.InputTokens).ShouldBe(1411 + 402 + 1214 + 2890 + 2874 + 2519);
        events.Sum(e => e.OutputTokens).ShouldBe(289 + 1 + 336 + 412);
        // The Support Bot part equals the fixture's token-costs row of 2025-11-21: 6955 tokens, 0.0047897.
        var bot = events.Where(e => e.AppId == FakeDify.SupportBot).ToList();
        bot.Sum(e => e.InputTokens + e.OutputTokens).ShouldBe(6955);
        bot.Sum(e => e.Cost).ShouldBe(0.0047897m);
        events.Single(e => e.EventId == "99887766-5544-4332-9bbc-ddeeff001122").UserType.ShouldBe("account");
        events.ShouldAllBe(e => e.UsageDate == day);

        // Conversations filtered from window start − 1 h in the account zone, sorted by -updated_at, no end.
        var conv = fake.Paths.First(p => p.Contains("/chat-conversations", StringComparison.Ordinal));
        conv.ShouldContain("start=2025-11-20%2023%3A00");
        conv.ShouldContain("sort_by=-updated_at");
        conv.ShouldNotContain("end=");
        conv.ShouldNotContain("last_id");
        var logs = fake.Paths.First(p => p.Contains("/workflow-app-logs", StringComparison.Ordinal));
        logs.ShouldContain("created_at__after=2025-11-20T14%3A00%3A00Z");
        logs.ShouldContain("created_at__before=2025-11-22T15%3A00%3A00Z");
        fake.Paths.ShouldNotContain(p => p.Contains("/workflow-runs?", StringComparison.Ordinal));
    }

    [Fact]
    public async Task In_utc_the_early_run_falls_on_the_previous_day()
    {
        var (events, report, _) = await ExtractAsync(TimeZoneInfo.Utc, new DateOnly(2025, 11, 20), new DateOnly(2025, 11, 21));
        report.TimeZone.ShouldBe(TimeZoneInfo.Utc);
        events.Single(e => e.EventId == "99887766-5544-4332-9bbc-ddeeff001122").UsageDate.ShouldBe(new DateOnly(2025, 11, 20));
        events.Where(e => e.EventId != "99887766-5544-4332-9bbc-ddeeff001122").ShouldAllBe(e => e.UsageDate == new DateOnly(2025, 11, 21));
    }
}
