using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;
using Microsoft.Data.Sqlite;
using Shouldly;
using Xunit;
using static DifyUsageExporter.Tests.Sync.DeliveryHarness;

namespace DifyUsageExporter.Tests.Storage;

/// <summary>
/// The ledger's incremental per-day totals: only days whose events changed are re-read, and the
/// stored totals always equal a sum computed here by hand from the events.
/// </summary>
public class DailyTotalsTests
{
    private static readonly DateOnly D1 = new(2026, 3, 1);
    private static readonly DateOnly D2 = new(2026, 3, 2);
    private static readonly DateOnly D3 = new(2026, 3, 3);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task ReplaceAsync(StateStore store, params UsageEvent[] events) =>
        store.ReplaceSourcesAsync(events.GroupBy(e => e.SourceId).ToDictionary(g => g.Key, g => (IReadOnlyList<UsageEvent>)g.ToList()), Ct);

    private static async Task<Dictionary<string, (long In, long Out, long N, decimal Cost)>> TotalsAsync(StateStore store)
    {
        var totals = await store.ReadDailyTotalsAsync(D1, D3, _ => true, Ct);
        return totals.ToDictionary(t => t.Key.ToString(), t => (t.InputTokens, t.OutputTokens, t.RequestCount, t.Cost));
    }

    [Fact]
    public async Task Only_changed_days_are_reread_and_the_totals_follow_every_change()
    {
        using var dir = new TempDir();
        using var store = StateStore.Open(dir.Path, new FakeTimeProvider(new DateTimeOffset(2026, 3, 5, 0, 0, 0, TimeSpan.Zero)));
        var a = Event(D1, "langgenius/openai/openai", "GPT-4o", 100, 10, 0.0000015m);
        var b = Event(D1, "openai", "gpt-4o", 200, 20, 0.0000025m);
        var c = Event(D2, "anthropic", "claude-3-5-haiku", 300, 30, 0.001m);
        await ReplaceAsync(store, a, b, c);

        (await store.RefreshDailyTotalsAsync(D1, D3, Ct)).ShouldBe(new TotalsRefresh(2, 3));
        var totals = await TotalsAsync(store);
        // Both raw spellings of OpenAI normalise to one key: 300 in, 30 out, 2 requests, 0.000004.
        totals.ShouldBe(new Dictionary<string, (long, long, long, decimal)>
        {
            ["2026-03-01|openai|gpt-4o"] = (300, 30, 2, 0.000004m),
            ["2026-03-02|anthropic|claude-3-5-haiku"] = (300, 30, 1, 0.001m),
        });

        // Nothing changed: nothing is read. Re-storing identical events changes nothing either.
        (await store.RefreshDailyTotalsAsync(D1, D3, Ct)).ShouldBe(new TotalsRefresh(0, 0));
        await ReplaceAsync(store, a, b, c);
        (await store.RefreshDailyTotalsAsync(D1, D3, Ct)).ShouldBe(new TotalsRefresh(0, 0));

        // One event of day 2 changes: only day 2 (its one event) is re-read.
        await ReplaceAsync(store, c with { InputTokens = 301 });
        (await store.RefreshDailyTotalsAsync(D1, D3, Ct)).ShouldBe(new TotalsRefresh(1, 1));
        (await TotalsAsync(store))["2026-03-02|anthropic|claude-3-5-haiku"].ShouldBe((301, 30, 1, 0.001m));

        // An event moves from day 1 to day 3 (a different time zone, a corrected timestamp): both days.
        await ReplaceAsync(store, b with { UsageDate = D3 });
        (await store.RefreshDailyTotalsAsync(D1, D3, Ct)).ShouldBe(new TotalsRefresh(2, 2));
        totals = await TotalsAsync(store);
        totals["2026-03-01|openai|gpt-4o"].ShouldBe((100, 10, 1, 0.0000015m));
        totals["2026-03-03|openai|gpt-4o"].ShouldBe((200, 20, 1, 0.0000025m));

        // A source that now has no events: its day loses the key.
        await store.ReplaceSourcesAsync(new Dictionary<string, IReadOnlyList<UsageEvent>> { [c.SourceId] = [] }, Ct);
        (await store.RefreshDailyTotalsAsync(D1, D3, Ct)).ShouldBe(new TotalsRefresh(1, 0));
        (await TotalsAsync(store)).Keys.ShouldNotContain("2026-03-02|anthropic|claude-3-5-haiku");
    }

    [Fact]
    public async Task Days_outside_the_window_stay_marked_until_a_window_covers_them()
    {
        using var dir = new TempDir();
        using var store = StateStore.Open(dir.Path, new FakeTimeProvider(new DateTimeOffset(2026, 3, 5, 0, 0, 0, TimeSpan.Zero)));
        await ReplaceAsync(store, Event(D1, "openai", "gpt-4o", 1, 1, 0m), Event(D3, "openai", "gpt-4o", 2, 2, 0m));

        (await store.RefreshDailyTotalsAsync(D3, D3, Ct)).ShouldBe(new TotalsRefresh(1, 1));
        (await store.ReadDailyTotalsAsync(D1, D3, _ => true, Ct)).Select(t => t.Key.UsageDate).ShouldBe([D3]);
        (await store.RefreshDailyTotalsAsync(D1, D3, Ct)).ShouldBe(new TotalsRefresh(1, 1));
        (await store.ReadDailyTotalsAsync(D1, D3, d => d != D3, Ct)).Select(t => t.Key.UsageDate).ShouldBe([D1]);
    }

    [Fact]
    public async Task Totals_made_under_other_aggregation_rules_are_recomputed_once()
    {
        using var dir = new TempDir();
        using var store = StateStore.Open(dir.Path, new FakeTimeProvider(new DateTimeOffset(2026, 3, 5, 0, 0, 0, TimeSpan.Zero)));
        await ReplaceAsync(store, Event(D1, "openai", "gpt-4o", 1, 1, 0m), Event(D2, "openai", "gpt-4o", 2, 2, 0m));
        (await store.RefreshDailyTotalsAsync(D1, D3, Ct)).Days.ShouldBe(2);

        // As if the totals were written by a build with other normalisation rules.
        using (var connection = new SqliteConnection($"Data Source={store.Path}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE kv SET value = '0' WHERE key = 'ledger.daily_totals_version'";
            command.ExecuteNonQuery().ShouldBe(1);
        }

        (await store.RefreshDailyTotalsAsync(D1, D3, Ct)).ShouldBe(new TotalsRefresh(2, 2));
        (await store.RefreshDailyTotalsAsync(D1, D3, Ct)).ShouldBe(new TotalsRefresh(0, 0));
    }
}
