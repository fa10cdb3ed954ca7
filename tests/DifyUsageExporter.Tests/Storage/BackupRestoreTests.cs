using System.Globalization;
using System.Text.RegularExpressions;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Tests.Cli;
using DifyUsageExporter.Tests.Sync;
using Microsoft.Data.Sqlite;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Storage;

/// <summary>`backup`, `restore` and backup retention on a real SQLite store, with a real API_Meter simulator behind the deliveries.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class BackupRestoreTests
{
    private static readonly DateOnly Day1 = new(2026, 3, 2);
    private static readonly DateOnly Day2 = new(2026, 3, 3);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<DeliveryHarness> DeliveredAsync()
    {
        var h = await DeliveryHarness.CreateAsync();
        h.Source.Events.Add(DeliveryHarness.Event(Day1, "openai", "gpt-4o", 100, 50, 0.25m));
        h.Source.Events.Add(DeliveryHarness.Event(Day2, "anthropic", "claude-3-5-sonnet", 70, 30, 0.5m));
        (await h.ExportAsync(Day1, Day2)).Outcome.ShouldBe(CycleOutcome.Success);
        return h;
    }

    private static long Count(string dbPath, string table)
    {
        using var connection = new SqliteConnection($"Data Source={dbPath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public async Task Backup_while_another_connection_writes_is_a_consistent_0600_copy_named_with_the_UTC_time()
    {
        await using var h = await DeliveredAsync();
        using var stop = new CancellationTokenSource();
        var n = 0;
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var e = DeliveryHarness.Event(Day2, "openai", "gpt-4o-mini", 1, 1, 0.001m);
                await h.Store.ReplaceSourcesAsync(new Dictionary<string, IReadOnlyList<DifyUsageExporter.Usage.UsageEvent>> { [e.SourceId] = [e] }, CancellationToken.None);
                Interlocked.Increment(ref n);
            }
        }, CancellationToken.None);
        while (Volatile.Read(ref n) < 20)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System, Ct);
        }

        var run = await CliHarness.InvokeAsync(h, "backup", "--to", Path.Combine(h.Dir, "out"));
        await stop.CancelAsync();
        await writer;

        run.ExitCode.ShouldBe(ExitCodes.Success, run.Error);
        var file = Directory.GetFiles(Path.Combine(h.Dir, "out")).ShouldHaveSingleItem();
        Path.GetFileName(file).ShouldBe("exporter-" + h.Clock.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + ".db");
        run.Out.ShouldContain(file);
        File.GetUnixFileMode(file).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        StoreBackup.Inspect(file, full: true).ShouldBe(h.Store.SchemaVersion());
        Count(file, "usage_events").ShouldBeGreaterThanOrEqualTo(22);
        Count(file, "delivered_keys").ShouldBe(2);
        StoreVerifier.VerifyFile(file, full: true).Violations.ShouldBeEmpty();
        // A self-contained file: no WAL left next to it.
        File.Exists(file + "-wal").ShouldBeFalse();
    }

    public static TheoryData<string, string> DamagedFiles() => new()
    {
        { "garbage", "not a database" },
        { "truncated", "damaged" },
        { "foreign", "not an exporter state store" },
        { "newer", "newer than this exporter understands" },
    };

    [Theory]
    [MemberData(nameof(DamagedFiles))]
    public async Task A_damaged_or_foreign_backup_is_refused_with_a_clear_error_and_the_store_is_untouched(string kind, string expected)
    {
        await using var h = await DeliveredAsync();
        var good = StoreBackup.Create(h.Store, Path.Combine(h.Dir, "b")).Path;
        var bad = Path.Combine(h.Dir, kind + ".db");
        switch (kind)
        {
            case "garbage":
                await File.WriteAllBytesAsync(bad, Enumerable.Range(0, 8192).Select(i => (byte)(i * 7)).ToArray(), Ct);
                break;
            case "truncated":
                var bytes = await File.ReadAllBytesAsync(good, Ct);
                // Keep the header, wipe the pages behind it: the file claims pages it no longer has.
                Array.Clear(bytes, 4096, bytes.Length - 4096);
                await File.WriteAllBytesAsync(bad, bytes, Ct);
                break;
            case "foreign":
                using (var other = new SqliteConnection($"Data Source={bad};Pooling=False"))
                {
                    other.Open();
                    using var create = other.CreateCommand();
                    create.CommandText = "CREATE TABLE notes (x TEXT)";
                    create.ExecuteNonQuery();
                }

                break;
            default:
                File.Copy(good, bad);
                using (var newer = new SqliteConnection($"Data Source={bad};Pooling=False"))
                {
                    newer.Open();
                    using var bump = newer.CreateCommand();
                    bump.CommandText = "INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01')";
                    bump.ExecuteNonQuery();
                }

                break;
        }

        var run = await CliHarness.InvokeAsync(h, "restore", bad, "--yes");

        run.ExitCode.ShouldBe(ExitCodes.Failure);
        run.Error.ShouldContain(bad);
        run.Error.ShouldContain(expected);
        Count(h.Store.Path, "delivered_keys").ShouldBe(2);
        Directory.Exists(Path.Combine(h.Dir, "backups")).ShouldBeFalse();
        (await CliHarness.InvokeAsync(h, "verify", "--file", bad)).ExitCode.ShouldBe(ExitCodes.Failure);
    }

    [Fact]
    public async Task Restore_keeps_the_replaced_store_as_a_backup_and_brings_back_the_backups_content()
    {
        await using var h = await DeliveredAsync();
        var backup = StoreBackup.Create(h.Store, Path.Combine(h.Dir, "b")).Path;
        h.Source.Events.Add(DeliveryHarness.Event(Day2, "openai", "gpt-4o", 10, 10, 0.1m));
        h.Clock.Advance(TimeSpan.FromMinutes(5));
        (await h.ExportAsync(Day1, Day2)).Outcome.ShouldBe(CycleOutcome.Success);
        var eventsAfter = Count(h.Store.Path, "usage_events");
        eventsAfter.ShouldBe(3);

        var run = await CliHarness.InvokeAsync(h, "restore", backup, "--yes");

        run.ExitCode.ShouldBe(ExitCodes.Success, run.Out + run.Error);
        Count(h.Store.Path, "usage_events").ShouldBe(2);
        Count(h.Store.Path, "delivered_keys").ShouldBe(2);
        var kept = Directory.GetFiles(Path.Combine(h.Dir, "backups"), "exporter-*-pre-restore.db").ShouldHaveSingleItem();
        Count(kept, "usage_events").ShouldBe(eventsAfter);
        File.GetUnixFileMode(kept).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        run.Out.ShouldContain(kept);
        run.Out.ShouldContain("Verify passed");
        // The same connection pool of this process sees the restored content.
        (await h.Store.ReadDeliveredHashesAsync("api_meter", Day1, Day2, Ct)).Count.ShouldBe(2);
    }

    [Fact]
    public async Task Restore_is_refused_while_a_cycle_holds_the_lock_and_without_confirmation()
    {
        await using var h = await DeliveredAsync();
        var backup = StoreBackup.Create(h.Store, Path.Combine(h.Dir, "b")).Path;

        using (CycleLock.TryAcquire(h.Dir).ShouldNotBeNull())
        {
            var refused = await CliHarness.InvokeAsync(h, "restore", backup, "--yes");
            refused.ExitCode.ShouldBe(ExitCodes.Failure);
            refused.Error.ShouldContain("another process is running an export cycle");
        }

        var unconfirmed = await CliHarness.InvokeAsync(h, "restore", backup);
        unconfirmed.ExitCode.ShouldBe(ExitCodes.Usage);
        unconfirmed.Error.ShouldContain("--yes");
        Directory.Exists(Path.Combine(h.Dir, "backups")).ShouldBeFalse();
    }

    [Theory]
    [InlineData("damaged")]
    [InlineData("newer")]
    public async Task Restore_works_when_the_live_store_is_damaged_or_was_migrated_by_a_newer_version(string state)
    {
        await using var h = await DeliveredAsync();
        var backup = StoreBackup.Create(h.Store, Path.Combine(h.Dir, "b")).Path;
        var live = h.Store.Path;
        if (state == "damaged")
        {
            SqliteConnection.ClearAllPools();
            File.Delete(live + "-wal");
            File.Delete(live + "-shm");
            await File.WriteAllBytesAsync(live, Enumerable.Repeat((byte)0x5a, 16384).ToArray(), Ct);
        }
        else
        {
            using var newer = new SqliteConnection($"Data Source={live};Pooling=False");
            newer.Open();
            using var bump = newer.CreateCommand();
            bump.CommandText = "INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01')";
            bump.ExecuteNonQuery();
        }

        var run = await CliHarness.InvokeAsync(h, "restore", backup, "--yes");

        run.ExitCode.ShouldBe(ExitCodes.Success, run.Out + run.Error);
        Count(live, "delivered_keys").ShouldBe(2);
        StoreBackup.Inspect(live, full: true).ShouldBe(Migrations.All[^1].Version);
        if (state == "damaged")
        {
            var kept = Directory.GetFiles(Path.Combine(h.Dir, "backups"), "exporter-*-damaged.db").ShouldHaveSingleItem();
            (await File.ReadAllBytesAsync(kept, Ct)).ShouldAllBe(b => b == 0x5a);
            run.Out.ShouldContain("could not be read as a database");
        }
        else
        {
            var kept = Directory.GetFiles(Path.Combine(h.Dir, "backups"), "exporter-*-pre-restore.db").ShouldHaveSingleItem();
            Count(kept, "schema_migrations").ShouldBe(Migrations.All.Count + 1);
        }
    }

    [Fact]
    public void Retention_deletes_backups_older_than_the_limit_keeps_the_newest_and_ignores_other_files()
    {
        using var dir = new Support.TempDir();
        var now = new DateTimeOffset(2026, 3, 20, 3, 30, 0, TimeSpan.Zero);
        string Make(DateTimeOffset at, string suffix = "") => dir.File("exporter-" + at.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + suffix + ".db", "x");
        var fresh = Make(now.AddDays(-1));
        var edge = Make(now.AddDays(-7).AddMinutes(1));
        var old = Make(now.AddDays(-8));
        var oldPre = Make(now.AddDays(-9), "-pre-restore");
        var foreign = dir.File("exporter.db", "live store, never touched");
        var note = dir.File("README.txt", "x");

        StoreBackup.Prune(dir.Path, 7, now).Order().ShouldBe(new[] { old, oldPre }.Order());
        File.Exists(fresh).ShouldBeTrue();
        File.Exists(edge).ShouldBeTrue();
        File.Exists(foreign).ShouldBeTrue();
        File.Exists(note).ShouldBeTrue();

        // Even when every backup is old, the newest one stays.
        StoreBackup.Prune(dir.Path, 1, now.AddDays(30)).Count.ShouldBe(1);
        File.Exists(fresh).ShouldBeTrue();
        Regex.IsMatch(Path.GetFileName(fresh), @"^exporter-\d{8}T\d{6}Z\.db$").ShouldBeTrue();
    }
}
