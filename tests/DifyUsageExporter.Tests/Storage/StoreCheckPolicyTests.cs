using DifyUsageExporter.Storage;
using Microsoft.Data.Sqlite;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Storage;

/// <summary>
/// Issue 12 target 6 (docs/operations.md, "Start-up checks of the state store"): the start-up
/// <c>PRAGMA quick_check</c> reads every page (about a second per million events), so it runs after
/// an unclean shutdown or when the last passed check is a day old, not on every start; the write
/// probe runs on every start. A damaged store met at start-up is still reported with the restore fix.
/// </summary>
public sealed class StoreCheckPolicyTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private static bool OpenAndProbe(string dir, TimeProvider time)
    {
        using var store = StateStore.Open(dir, time);
        return StoreProbe.Check(store);
    }

    [Fact]
    public void After_a_clean_shutdown_the_check_runs_again_only_when_the_last_one_is_a_day_old()
    {
        using var dir = new TempDir();
        var clock = new FakeClock(Start);

        OpenAndProbe(dir.Path, clock).ShouldBeTrue("the first start has no passed check");
        File.Exists(Path.Combine(dir.Path, StateStore.FileName + "-wal")).ShouldBeFalse("a clean close removes SQLite's write-ahead log");
        clock.Advance(TimeSpan.FromHours(23));
        OpenAndProbe(dir.Path, clock).ShouldBeFalse("the last check passed 23 h ago and the store was closed cleanly");
        clock.Advance(TimeSpan.FromHours(1));
        OpenAndProbe(dir.Path, clock).ShouldBeTrue("the last check passed a day ago");
        OpenAndProbe(dir.Path, clock).ShouldBeFalse();
    }

    [Fact]
    public void A_store_that_was_not_closed_cleanly_is_checked_at_the_next_start()
    {
        using var dir = new TempDir();
        using var crashed = new TempDir();
        var clock = new FakeClock(Start);
        OpenAndProbe(dir.Path, clock).ShouldBeTrue();

        // A crash image: the files as a killed process leaves them, a committed write still in the WAL.
        var path = Path.Combine(dir.Path, StateStore.FileName);
        using (var live = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            live.Open();
            using (var write = live.CreateCommand())
            {
                write.CommandText = "PRAGMA wal_autocheckpoint = 0; INSERT INTO kv (key, value, updated_at) VALUES ('crash-test', 'x', 'x');";
                write.ExecuteNonQuery();
            }

            foreach (var file in new[] { StateStore.FileName, StateStore.FileName + "-wal" })
            {
                File.Copy(Path.Combine(dir.Path, file), Path.Combine(crashed.Path, file));
            }
        }

        new FileInfo(Path.Combine(crashed.Path, StateStore.FileName + "-wal")).Length.ShouldBeGreaterThan(0);
        using (var store = StateStore.Open(crashed.Path, clock))
        {
            store.WalLeftBehind.ShouldBeTrue();
            StoreProbe.Check(store).ShouldBeTrue("the last check passed a moment ago, but the store was not closed cleanly");
        }

        OpenAndProbe(crashed.Path, clock).ShouldBeFalse("closed cleanly after a passed check");
    }

    [Fact]
    public void A_damaged_store_whose_last_check_is_recent_is_still_reported_with_the_restore_fix()
    {
        using var dir = new TempDir();
        var clock = new FakeClock(Start);
        OpenAndProbe(dir.Path, clock).ShouldBeTrue();
        OpenAndProbe(dir.Path, clock).ShouldBeFalse();

        SqliteConnection.ClearAllPools();
        using (var file = File.OpenWrite(Path.Combine(dir.Path, StateStore.FileName)))
        {
            // Page 2 onwards overwritten, the header on page 1 stays valid (as StoreDiagnosticsTests).
            file.Seek(4096, SeekOrigin.Begin);
            file.Write(Enumerable.Repeat((byte)0xA5, 16 * 4096).ToArray());
        }

        var ex = Should.Throw<StoreException>(() => OpenAndProbe(dir.Path, clock));
        ex.Problem.ShouldBe(StoreProblem.Damaged);
        ex.Message.ShouldContain("dify-usage-exporter restore");
    }

    [Theory]
    [InlineData(false, 0.0, 0.5, false)]
    [InlineData(false, 0.0, 24.0, true)]
    [InlineData(true, 0.0, 0.1, true)]
    [InlineData(false, null, 0.0, true)]
    [InlineData(false, 5.0, 1.0, true)] // the clock went back: the recorded check is not trusted
    public void The_check_is_due_after_an_unclean_shutdown_a_day_or_without_a_passed_check(bool walLeft, double? passedHours, double nowHours, bool due) =>
        StoreProbe.IntegrityCheckDue(walLeft, passedHours is { } p ? Start.AddHours(p) : null, Start.AddHours(nowHours)).ShouldBe(due);
}
