using DifyUsageExporter.Storage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Storage;

public class CycleRecordTests
{
    /// <summary>The store under test: a SQLite file in <paramref name="dir"/> here, PostgreSQL in the subclass.</summary>
    protected virtual StateStore Open(TempDir dir, TimeProvider time) => StateStore.Open(dir.Path, time);

    private static readonly DateTimeOffset T0 = new(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Records_start_and_end_and_reads_the_last_cycle_and_last_success()
    {
        using var dir = new TempDir();
        using var store = Open(dir, new FakeTimeProvider(T0));
        var ct = TestContext.Current.CancellationToken;
        store.ReadLastCycle().ShouldBeNull();

        await store.RecordCycleStartAsync("a", "schedule", T0, ct);
        await store.RecordCycleEndAsync("a", T0.AddMinutes(1), "success", "ok", ct);
        await store.RecordCycleStartAsync("b", "once", T0.AddHours(1), ct);
        await store.RecordCycleEndAsync("b", T0.AddHours(1).AddMinutes(2), "failed", "boom", ct);

        store.ReadLastCycle().ShouldBe(new CycleRecord("b", "once", T0.AddHours(1), T0.AddHours(1).AddMinutes(2), "failed", "boom"));
        store.ReadLastCycleWithOutcome("success")!.FinishedAt.ShouldBe(T0.AddMinutes(1));
    }

    [Fact]
    public async Task A_cycle_left_unfinished_by_a_crashed_process_is_marked_abandoned_at_the_next_start()
    {
        using var dir = new TempDir();
        using var store = Open(dir, new FakeTimeProvider(T0));
        var ct = TestContext.Current.CancellationToken;

        await store.RecordCycleStartAsync("crashed", "schedule", T0, ct);
        await store.RecordCycleStartAsync("next", "schedule", T0.AddHours(1), ct);
        await store.RecordCycleEndAsync("next", T0.AddHours(2), "success", "ok", ct);
        await store.RecordCycleStartAsync("later", "schedule", T0.AddHours(3), ct);

        store.ReadLastCycleWithOutcome(StateStore.AbandonedOutcome)!.Id.ShouldBe("crashed");
        store.ReadLastCycle()!.Id.ShouldBe("later");
        store.ReadLastCycleWithOutcome("success")!.Id.ShouldBe("next");
    }
}

/// <summary>The cycle records with the state in PostgreSQL (its cycles.rowid stands in for SQLite's rowid).</summary>
public sealed class PostgresCycleRecordTests : CycleRecordTests
{
    protected override StateStore Open(TempDir dir, TimeProvider time) => Support.TestStores.OpenPostgres(time);
}
