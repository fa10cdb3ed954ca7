using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Storage;

/// <summary>
/// The behaviour extraction relies on from its <see cref="ILedgerWriter"/>, specified once and run
/// against both implementations: the SQLite store and the in-memory fake the tests may use.
/// </summary>
public abstract class LedgerWriterSpecs : IDisposable
{
    protected static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDir dir = new();
    private ILedgerWriter? ledger;

    protected ILedgerWriter Ledger => ledger ??= Create(dir.Path, new FakeTimeProvider(Now));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public virtual void Dispose()
    {
        (ledger as IDisposable)?.Dispose();
        dir.Dispose();
        GC.SuppressFinalize(this);
    }

    protected abstract ILedgerWriter Create(string directory, TimeProvider time);

    internal static UsageEvent Event(string id, string source, DateOnly day, long input = 10, long output = 5, decimal cost = 0.25m) => new()
    {
        EventId = id,
        SourceId = source,
        AppId = "app-1",
        AppName = "Support bot",
        AppMode = "chat",
        UserId = "user-1",
        UserType = "end_user",
        OccurredAt = new DateTimeOffset(day.ToDateTime(new TimeOnly(9, 30)), TimeSpan.Zero),
        UsageDate = day,
        Provider = "openai",
        Model = "gpt-4o",
        InputTokens = input,
        OutputTokens = output,
        Cost = cost,
        Currency = "USD",
    };

    private async Task<List<UsageEvent>> AllAsync() => await Ledger.ReadEventsAsync(DateOnly.MinValue, DateOnly.MaxValue, Ct).ToListAsync(Ct);

    private static readonly DateOnly Day1 = new(2026, 3, 1);
    private static readonly DateOnly Day2 = new(2026, 3, 2);

    [Fact]
    public async Task Re_reading_a_source_replaces_its_events_and_never_duplicates()
    {
        await Ledger.ReplaceSourcesAsync(new Dictionary<string, IReadOnlyList<UsageEvent>> { ["run-1"] = [Event("e1", "run-1", Day1), Event("e2", "run-1", Day1)] }, Ct);
        await Ledger.ReplaceSourcesAsync(new Dictionary<string, IReadOnlyList<UsageEvent>> { ["run-1"] = [Event("e1", "run-1", Day1, input: 99)] }, Ct);

        var events = await AllAsync();
        events.Select(e => (e.EventId, e.InputTokens)).ShouldBe([("e1", 99L)]);
    }

    [Fact]
    public async Task An_empty_list_deletes_the_source_and_leaves_other_sources_alone()
    {
        await Ledger.ReplaceSourcesAsync(new Dictionary<string, IReadOnlyList<UsageEvent>> { ["a"] = [Event("a1", "a", Day1)], ["b"] = [Event("b1", "b", Day2)] }, Ct);
        await Ledger.ReplaceSourcesAsync(new Dictionary<string, IReadOnlyList<UsageEvent>> { ["a"] = [] }, Ct);

        (await AllAsync()).Select(e => e.EventId).ShouldBe(["b1"]);
    }

    [Fact]
    public async Task Events_come_back_as_written_ordered_by_day_then_id_within_the_days_asked_for()
    {
        var written = Event("z", "s2", Day1, cost: 0.0000123m);
        await Ledger.ReplaceSourcesAsync(new Dictionary<string, IReadOnlyList<UsageEvent>> { ["s1"] = [Event("b", "s1", Day2), Event("a", "s1", Day2)], ["s2"] = [written] }, Ct);

        (await AllAsync()).Select(e => e.EventId).ShouldBe(["z", "a", "b"]);
        (await Ledger.ReadEventsAsync(Day2, Day2, Ct).ToListAsync(Ct)).Select(e => e.EventId).ShouldBe(["a", "b"]);
        (await Ledger.ReadEventsAsync(Day1, Day1, Ct).SingleAsync(Ct)).ShouldBe(written);
    }

    [Fact]
    public async Task A_later_day_extraction_replaces_the_earlier_one_and_unread_days_are_absent()
    {
        await Ledger.RecordDayExtractionsAsync([new DayExtraction(Day1, false, ["Support bot (app-1)"], "Asia/Tokyo", Now)], Ct);
        await Ledger.RecordDayExtractionsAsync([new DayExtraction(Day1, true, [], "Asia/Tokyo", Now.AddHours(1))], Ct);

        var days = await Ledger.ReadDayExtractionsAsync(Day1, Day2, Ct);
        days.Keys.ShouldBe([Day1]);
        days[Day1].Complete.ShouldBeTrue();
        days[Day1].IncompleteApps.ShouldBeEmpty();
        days[Day1].ExtractedAt.ShouldBe(Now.AddHours(1));
    }

    [Fact]
    public async Task A_watermark_moves_with_each_set_and_watermarks_are_listed_by_app_name()
    {
        await Ledger.SetWatermarkAsync("app-2", "Zeta", Now.AddDays(-2), Ct);
        await Ledger.SetWatermarkAsync("app-1", "Alpha", Now.AddDays(-3), Ct);
        await Ledger.SetWatermarkAsync("app-1", "Alpha", Now.AddDays(-1), Ct);

        var marks = await Ledger.ReadWatermarksAsync(Ct);
        marks.Select(m => (m.AppId, m.Watermark)).ShouldBe([("app-1", Now.AddDays(-1)), ("app-2", Now.AddDays(-2))]);
        marks.ShouldAllBe(m => m.UpdatedAt == Now);
    }

    [Fact]
    public async Task State_reads_what_was_last_written_and_nothing_after_a_delete()
    {
        (await Ledger.ReadStateAsync("dify.k", Ct)).ShouldBeNull();
        await Ledger.WriteStateAsync("dify.k", "one", Ct);
        await Ledger.WriteStateAsync("dify.k", "two", Ct);
        (await Ledger.ReadStateAsync("dify.k", Ct)).ShouldBe("two");

        await Ledger.DeleteStateAsync("dify.k", Ct);

        (await Ledger.ReadStateAsync("dify.k", Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task The_latest_unknown_mode_apps_replace_the_previous_list()
    {
        (await Ledger.ReadUnknownModeAppsAsync(Ct)).ShouldBeEmpty();
        await Ledger.SaveUnknownModeAppsAsync(["A (1): rag-pipeline", "B (2): x"], Ct);
        await Ledger.SaveUnknownModeAppsAsync(["B (2): x"], Ct);

        (await Ledger.ReadUnknownModeAppsAsync(Ct)).ShouldBe(["B (2): x"]);
    }
}

/// <summary>The ledger-writer specs on the SQLite store (a real file).</summary>
public sealed class SqliteLedgerWriterSpecs : LedgerWriterSpecs
{
    protected override ILedgerWriter Create(string directory, TimeProvider time) => StateStore.Open(directory, time);
}

/// <summary>The ledger-writer specs on the PostgreSQL store (STATE_DATABASE_URL), a fresh database each.</summary>
public sealed class PostgresLedgerWriterSpecs : LedgerWriterSpecs
{
    protected override ILedgerWriter Create(string directory, TimeProvider time) => Support.TestStores.OpenPostgres(time);
}

/// <summary>The same specs on the in-memory fake.</summary>
public sealed class InMemoryLedgerWriterSpecs : LedgerWriterSpecs
{
    protected override ILedgerWriter Create(string directory, TimeProvider time) => new InMemoryLedger(time);
}
