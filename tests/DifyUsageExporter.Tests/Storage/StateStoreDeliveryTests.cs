using DifyUsageExporter.Storage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Storage;

/// <summary>The spool's rules on the SQLite file; <see cref="PostgresStateStoreDeliveryTests"/> runs them on PostgreSQL.</summary>
public class StateStoreDeliveryTests : IDisposable
{
    private static readonly DateOnly Day = new(2026, 3, 1);
    private readonly string dir = Path.Combine(Path.GetTempPath(), "due-store-" + Guid.NewGuid().ToString("N"));
    private readonly string? postgres;
    private readonly StateStore store;

    public StateStoreDeliveryTests()
        : this(null)
    {
    }

    protected StateStoreDeliveryTests(string? postgres)
    {
        this.postgres = postgres;
        store = Reopen(new FakeClock(new DateTimeOffset(2026, 3, 10, 0, 0, 0, TimeSpan.Zero), FakeTimers.FastForward));
    }

    public void Dispose()
    {
        store.Dispose();
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, true);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Opens the same store again, as a restarted process would.</summary>
    private StateStore Reopen(TimeProvider time) => postgres is null ? StateStore.Open(dir, time) : StateStore.OpenPostgres(postgres, time);

    private static OutboxItem Item(string key, string content) => new(key, Day, content, "h-" + content);

    [Fact]
    public async Task Batches_hold_at_most_the_batch_size_and_one_row_per_key()
    {
        var ct = TestContext.Current.CancellationToken;
        var batches = await store.EnqueueAsync("api_meter", [Item("k1", "a"), Item("k2", "b"), Item("k3", "c")], 2, false, ct);

        batches.Count.ShouldBe(2);
        var rows = await store.ReadOutboxAsync("api_meter", null, null, ct);
        rows.GroupBy(r => r.BatchId).Select(g => g.Count()).ShouldBe([2, 1]);
        rows.Select(r => r.RecordKey).Distinct().Count().ShouldBe(3);
    }

    [Fact]
    public async Task A_newer_total_replaces_the_pending_row_and_an_identical_one_is_not_requeued()
    {
        var ct = TestContext.Current.CancellationToken;
        await store.EnqueueAsync("api_meter", [Item("k1", "old")], 500, false, ct);
        var old = (await store.ReadOutboxAsync(null, null, null, ct)).Single();
        await store.MarkFailedAsync([old], 4, "HTTP 503", true, 10, ct);

        (await store.EnqueueAsync("api_meter", [Item("k1", "old")], 500, false, ct)).ShouldBeEmpty();
        await store.EnqueueAsync("api_meter", [Item("k1", "new")], 500, false, ct);

        var row = (await store.ReadOutboxAsync(null, null, null, ct)).Single();
        row.RecordJson.ShouldBe("new");
        (row.Attempts, row.FailedCycles, row.LastError).ShouldBe((0, 0, (string?)null));

        // An acknowledgement of the superseded content must not remove the newer row.
        await store.MarkDeliveredAsync([old], ct);
        (await store.ReadOutboxAsync(null, null, null, ct)).Single().RecordJson.ShouldBe("new");
        (await store.ReadDeliveredHashesAsync("api_meter", Day, Day, ct))["k1"].ShouldBe("h-old");
    }

    [Fact]
    public async Task Failed_cycles_turn_a_batch_into_a_dead_letter_that_stays_until_discarded()
    {
        var ct = TestContext.Current.CancellationToken;
        var batch = (await store.EnqueueAsync("api_meter", [Item("k1", "a"), Item("k2", "b")], 500, false, ct)).Single();
        var rows = await store.ReadOutboxAsync(null, batch, null, ct);

        (await store.MarkFailedAsync(rows, 4, "HTTP 503", true, 2, ct)).ShouldBeEmpty();
        (await store.MarkFailedAsync(rows, 0, "HTTP 503", false, 2, ct)).ShouldBeEmpty(); // an operator's resend is not a cycle
        (await store.MarkFailedAsync(rows, 4, "HTTP 503", true, 2, ct)).ShouldBe([batch]);

        var dead = await store.ReadOutboxAsync(null, batch, OutboxRow.Dead, ct);
        dead.Count.ShouldBe(2);
        dead.ShouldAllBe(r => r.Attempts == 8 && r.FailedCycles == 2 && r.LastError == "HTTP 503");
        (await store.EnqueueAsync("api_meter", [Item("k1", "a")], 500, false, ct)).ShouldBeEmpty(); // same content stays dead

        (await store.DiscardBatchAsync(batch, ct)).ShouldBe(2);
        (await store.ReadOutboxAsync(null, null, null, ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task The_spool_survives_reopening_the_store()
    {
        var ct = TestContext.Current.CancellationToken;
        await store.EnqueueAsync("api_meter", [Item("k1", "a")], 500, false, ct);
        using var reopened = Reopen(TimeProvider.System);
        (await reopened.ReadOutboxAsync(null, null, OutboxRow.Pending, ct)).Single().RecordKey.ShouldBe("k1");
    }
}

/// <summary>The same spool rules with the state in PostgreSQL (STATE_DATABASE_URL).</summary>
public sealed class PostgresStateStoreDeliveryTests() : StateStoreDeliveryTests(Support.TestStores.NewPostgresDatabase());
