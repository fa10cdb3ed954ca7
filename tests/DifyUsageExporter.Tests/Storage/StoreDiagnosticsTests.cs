using System.Net;
using System.Net.Sockets;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;
using Microsoft.Data.Sqlite;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Storage;

/// <summary>
/// Issue 9 item 9: before logging in to Dify the store is proven readable (quick_check) and
/// writable (a real write); disk full, read-only file system, wrong owner and a lock held by
/// another process are told apart, each with its fix; read-only commands work on a read-only DATA_DIR.
/// </summary>
public class StoreDiagnosticsTests
{
    [Theory]
    [InlineData(13, null, false, null, StoreProblem.DiskFull)]          // SQLITE_FULL
    [InlineData(null, 28, false, null, StoreProblem.DiskFull)]          // ENOSPC
    [InlineData(null, 122, false, null, StoreProblem.DiskFull)]         // EDQUOT
    [InlineData(4874, null, false, 0L, StoreProblem.DiskFull)]          // SQLITE_IOERR_SHMSIZE on an empty file system
    [InlineData(null, 30, false, 1000L, StoreProblem.ReadOnlyFileSystem)] // EROFS
    [InlineData(14, null, true, 1000L, StoreProblem.ReadOnlyFileSystem)]  // SQLITE_CANTOPEN on a read-only mount
    [InlineData(8, null, true, 1000L, StoreProblem.ReadOnlyFileSystem)]   // SQLITE_READONLY on a read-only mount
    [InlineData(null, 13, false, 1000L, StoreProblem.PermissionDenied)]   // EACCES
    [InlineData(null, 1, false, 1000L, StoreProblem.PermissionDenied)]    // EPERM
    [InlineData(8, null, false, 1000L, StoreProblem.PermissionDenied)]    // SQLITE_READONLY, file system writable
    [InlineData(14, null, false, 1000L, StoreProblem.PermissionDenied)]   // SQLITE_CANTOPEN, file system writable
    [InlineData(5, null, false, 1000L, StoreProblem.Locked)]              // SQLITE_BUSY
    [InlineData(517, null, false, 1000L, StoreProblem.Locked)]            // SQLITE_BUSY_SNAPSHOT
    [InlineData(6, null, false, 1000L, StoreProblem.Locked)]              // SQLITE_LOCKED
    [InlineData(11, null, false, 1000L, StoreProblem.Damaged)]            // SQLITE_CORRUPT
    [InlineData(26, null, false, 1000L, StoreProblem.Damaged)]            // SQLITE_NOTADB
    [InlineData(10, null, false, 1000L, StoreProblem.Other)]              // SQLITE_IOERR with space left
    [InlineData(1, null, false, 1000L, StoreProblem.Other)]
    public void The_classifier_tells_the_causes_apart(int? sqliteCode, int? errno, bool readOnlyMount, long? freeBytes, StoreProblem expected) =>
        StoreDiagnosis.Classify(sqliteCode, errno, readOnlyMount, freeBytes).ShouldBe(expected);

    [Fact]
    public void A_write_lock_held_by_another_connection_is_reported_as_locked_with_the_fix()
    {
        using var dir = new TempDir();
        using var store = StateStore.Open(dir.Path, TimeProvider.System);
        using var other = new SqliteConnection($"Data Source={store.Path};Pooling=False");
        other.Open();
        using var hold = other.BeginTransaction(deferred: false);

        var ex = Should.Throw<StoreException>(() => StoreProbe.Check(store, TimeSpan.FromMilliseconds(300)));

        ex.Problem.ShouldBe(StoreProblem.Locked);
        ex.Message.ShouldContain($"The state store {store.Path} is locked by another process (SQLITE_BUSY");
        ex.Message.ShouldContain($"Fix: find the process with `fuser -v {store.Path}`");
    }

    [Fact]
    public void A_damaged_database_fails_the_quick_check_with_the_restore_fix()
    {
        using var dir = new TempDir();
        using (var store = StateStore.Open(dir.Path, TimeProvider.System))
        {
            StoreProbe.Check(store);
        }

        var path = Path.Combine(dir.Path, StateStore.FileName);
        SqliteConnection.ClearAllPools();
        using (var file = File.OpenWrite(path))
        {
            // Page 2 onwards (the tables' b-tree pages) overwritten; the header on page 1 stays valid.
            file.Seek(4096, SeekOrigin.Begin);
            file.Write(Enumerable.Repeat((byte)0xA5, 16 * 4096).ToArray());
        }

        var ex = Should.Throw<StoreException>(() =>
        {
            // Opening may already fail on a damaged page; if not, the probe's quick_check does.
            using var damaged = StateStore.Open(dir.Path, TimeProvider.System);
            StoreProbe.Check(damaged);
        });
        ex.Problem.ShouldBe(StoreProblem.Damaged);
        ex.Message.ShouldContain("is damaged");
        ex.Message.ShouldContain("dify-usage-exporter restore");
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task On_a_full_file_system_run_once_stops_before_logging_in_with_the_disk_full_fix()
    {
        Assert.SkipWhen(Isolation.MountNamespaceUnavailable is not null, Isolation.MountNamespaceUnavailable ?? string.Empty);
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        Directory.CreateDirectory(data);
        using var dify = new ConnectionCounter();
        var env = ValidConfig.Variables(data);
        env["DIFY_API_BASE_URL"] = dify.Url;

        // A 256 KiB tmpfs on DATA_DIR, filled to the last block: writes fail with ENOSPC.
        var setup = $"mount -t tmpfs -o size=256k tmpfs {Isolation.Quote(data)}; dd if=/dev/zero of={Isolation.Quote(Path.Combine(data, "fill"))} bs=4k 2>/dev/null || true";
        using var run = Isolation.InMountNamespace(setup, env, dir.Path, "run", "--once");
        (await run.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(1, run.Stdout + run.Stderr);

        var line = JsonLogAssert.EveryLineHasExactlyFourFields(run.Stdout).Single(l => l.GetProperty("level").GetString() == "error");
        var message = line.GetProperty("message").GetString()!;
        message.ShouldContain($"The state store cannot be used (DiskFull): The file system of DATA_DIR {data} is full");
        message.ShouldContain($"Fix: free space or enlarge the volume (`df -h {data}`)");
        dify.Connections.ShouldBe(0, "nothing may reach Dify before the store is proven writable");
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task On_a_read_only_mount_run_once_names_the_read_only_file_system_and_read_only_commands_still_work()
    {
        Assert.SkipWhen(Isolation.MountNamespaceUnavailable is not null, Isolation.MountNamespaceUnavailable ?? string.Empty);
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        await SeedStoreAsync(data);
        var before = Directory.GetFiles(data).Order(StringComparer.Ordinal).ToList();
        using var dify = new ConnectionCounter();
        var env = ValidConfig.Variables(data);
        env["DIFY_API_BASE_URL"] = dify.Url;
        var readOnly = $"mount --bind {Isolation.Quote(data)} {Isolation.Quote(data)}; mount -o remount,bind,ro {Isolation.Quote(data)}";

        using (var run = Isolation.InMountNamespace(readOnly, env, dir.Path, "run", "--once"))
        {
            (await run.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(1, run.Stdout + run.Stderr);
            run.Stdout.ShouldContain($"The state store cannot be used (ReadOnlyFileSystem): DATA_DIR {data} is on a read-only file system (mounted read-only at {data}");
            run.Stdout.ShouldContain("Fix: mount it read-write");
        }

        await ShouldWorkReadOnlyAsync(Isolation.InMountNamespace(readOnly, env, dir.Path, "watermark", "show"), "app-seeded-1");
        await ShouldWorkReadOnlyAsync(Isolation.InMountNamespace(readOnly, env, dir.Path, "spool", "list"), "The spool is empty.");
        await ShouldWorkReadOnlyAsync(Isolation.InMountNamespace(readOnly, env, dir.Path, "usage", "--ledger", "--from", "2026-03-01", "--to", "2026-03-02"), "2026-03-01");
        await ShouldWorkReadOnlyAsync(Isolation.InMountNamespace(readOnly, env, dir.Path, "config"), "DATA_DIR");
        Directory.GetFiles(data).Order(StringComparer.Ordinal).ToList().ShouldBe(before, "nothing may be created on a read-only DATA_DIR");
        dify.Connections.ShouldBe(0);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task A_DATA_DIR_of_another_owner_names_both_uids_and_the_chown_while_read_only_commands_still_work()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        await SeedStoreAsync(data);
        var env = ValidConfig.Variables(data);
        env["HOME"] = dir.Path;
        // Root ignores permissions: as root the exporter runs as nobody (65534) on root's files;
        // otherwise the directory is made read-only for its owner (chmod 0500).
        var database = Path.Combine(data, StateStore.FileName);
        File.SetUnixFileMode(database, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(data, Isolation.IsRoot
            ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
            : UnixFileMode.UserRead | UnixFileMode.UserExecute);
        File.SetUnixFileMode(dir.Path, (UnixFileMode)Convert.ToInt32("755", 8));
        var uid = Isolation.IsRoot ? "65534" : Isolation.Run("id", "-u").Output.Trim();
        var owner = Isolation.IsRoot ? "0" : uid;
        ExporterProcess Start(params string[] args) => Isolation.IsRoot ? Isolation.AsNobody(env, dir.Path, args) : ExporterProcess.Start(env, dir.Path, args);

        try
        {
            using (var run = Start("run", "--once"))
            {
                (await run.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(1, run.Stdout + run.Stderr);
                run.Stdout.ShouldContain($"DATA_DIR {data} is not writable by the user the exporter runs as (uid {uid}): {data} belongs to uid {owner}");
                run.Stdout.ShouldContain(Isolation.IsRoot ? $"Fix: `chown -R {uid} {data}`" : $"Fix: `chmod 700 {data}`");
            }

            await ShouldWorkReadOnlyAsync(Start("watermark", "show"), "app-seeded-1");
            await ShouldWorkReadOnlyAsync(Start("spool", "list"), "The spool is empty.");
        }
        finally
        {
            File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static async Task ShouldWorkReadOnlyAsync(ExporterProcess process, string expected)
    {
        using (process)
        {
            (await process.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(0, process.Stdout + process.Stderr);
            process.Stdout.ShouldContain(expected);
        }
    }

    /// <summary>A store with a watermark and one complete day, closed cleanly (no -wal/-shm left).</summary>
    private static async Task SeedStoreAsync(string data)
    {
        using (var store = StateStore.Open(data, TimeProvider.System))
        {
            var at = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
            await store.SetWatermarkAsync("app-seeded-1", "Seeded app", at, TestContext.Current.CancellationToken);
            await store.RecordDayExtractionsAsync([new DayExtraction(new DateOnly(2026, 3, 1), true, [], "UTC", at), new DayExtraction(new DateOnly(2026, 3, 2), true, [], "UTC", at)], TestContext.Current.CancellationToken);
        }

        SqliteConnection.ClearAllPools();
    }

    /// <summary>A loopback port that counts connection attempts (a stand-in Dify that must never be reached).</summary>
    private sealed class ConnectionCounter : IDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private int connections;

        public ConnectionCounter()
        {
            listener.Start();
            _ = AcceptAsync();
        }

        public string Url => $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";

        public int Connections => Volatile.Read(ref connections);

        public void Dispose() => listener.Dispose();

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    using var client = await listener.AcceptTcpClientAsync();
                    Interlocked.Increment(ref connections);
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                // Stopped.
            }
        }
    }
}
