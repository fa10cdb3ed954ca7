using DifyUsageExporter.Cli;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Storage;

/// <summary>
/// Issue 9 item 8: everything the exporter creates in DATA_DIR is 0600 and every directory 0700,
/// whatever the umask; an existing DATA_DIR open to others is tightened with a warning.
/// </summary>
public class DataDirectoryModeTests
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDir = Private | UnixFileMode.UserExecute;

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Under_umask_000_the_daemon_creates_its_directories_0700_and_the_database_WAL_SHM_and_lock_0600()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "state", "data");
        var env = ValidConfig.Variables(data);
        env["RUN_ON_START"] = "always";
        env["DIFY_FETCH_TIMEOUT_MS"] = "1000";
        env["DIFY_FETCH_RETRY_COUNT"] = "0";

        using (var daemon = Isolation.WithUmask("000", env, dir.Path, "run"))
        {
            (await daemon.WaitForOutputAsync("Export cycle finished", TimeSpan.FromMinutes(1))).ShouldBeTrue(daemon.Stdout + daemon.Stderr);
            // While the daemon runs, SQLite keeps the WAL and the shared-memory file next to the database.
            var files = DataDirectory.OwnFiles.Select(f => Path.Combine(data, f)).ToList();
            foreach (var file in files)
            {
                File.Exists(file).ShouldBeTrue(file);
                File.GetUnixFileMode(file).ShouldBe(Private, file);
            }

            File.GetUnixFileMode(data).ShouldBe(PrivateDir);
            File.GetUnixFileMode(Path.Combine(dir.Path, "state")).ShouldBe(PrivateDir, "a missing parent of DATA_DIR is created 0700 too");
            daemon.Signal("TERM");
            await daemon.WaitForExitAsync(TimeSpan.FromMinutes(1));
        }

        using var backup = Isolation.WithUmask("000", env, dir.Path, "backup");
        (await backup.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(0, backup.Stdout + backup.Stderr);
        var backups = Path.Combine(data, "backups");
        File.GetUnixFileMode(backups).ShouldBe(PrivateDir);
        var copies = Directory.GetFiles(backups);
        copies.ShouldNotBeEmpty();
        copies.ShouldAllBe(f => File.GetUnixFileMode(f) == Private);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void An_existing_DATA_DIR_0755_with_0644_state_files_is_tightened_with_a_warning_naming_path_and_modes()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        Directory.CreateDirectory(data);
        using (StateStore.Open(data, TimeProvider.System))
        {
        }

        File.SetUnixFileMode(data, PrivateDir | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var database = Path.Combine(data, "exporter.db");
        File.SetUnixFileMode(database, Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var cli = new CapturedEnvironment(ValidConfig.Variables(data), dir.Path);

        cli.Run("spool", "list").ShouldBe(ExitCodes.Success, cli.Error.ToString());

        File.GetUnixFileMode(data).ShouldBe(PrivateDir);
        File.GetUnixFileMode(database).ShouldBe(Private);
        var error = cli.Error.ToString();
        error.ShouldContain($"warning: DATA_DIR {data} had mode 0755 (open to other users); tightened to 0700");
        error.ShouldContain($"File {database} had mode 0644 (open to other users); tightened to 0600");
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task The_daemon_logs_the_tightening_as_a_warn_line()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        Directory.CreateDirectory(data);
        File.SetUnixFileMode(data, PrivateDir | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var env = ValidConfig.Variables(data);
        env["RUN_ON_START"] = "never";

        using var daemon = ExporterProcess.Start(env, dir.Path, "run");
        (await daemon.WaitForOutputAsync("Health server listening", TimeSpan.FromMinutes(1))).ShouldBeTrue(daemon.Stdout + daemon.Stderr);
        daemon.Signal("TERM");
        await daemon.WaitForExitAsync(TimeSpan.FromMinutes(1));

        var warn = JsonLogAssert.EveryLineHasExactlyFourFields(daemon.Stdout)
            .Single(l => l.GetProperty("message").GetString()!.StartsWith("DATA_DIR ", StringComparison.Ordinal));
        warn.GetProperty("level").GetString().ShouldBe("warn");
        warn.GetProperty("message").GetString().ShouldBe($"DATA_DIR {data} had mode 0705 (open to other users); tightened to 0700: the state store holds the usage ledger.");
        File.GetUnixFileMode(data).ShouldBe(PrivateDir);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Audit_files_are_written_0600_and_a_restore_keeps_the_replaced_store_0600_in_a_0700_directory()
    {
        using var dir = new TempDir();
        var audit = Path.Combine(dir.Path, "audit.csv");
        await AuditFile.WriteKeysAsync(audit, "csv", [], TestContext.Current.CancellationToken);
        File.GetUnixFileMode(audit).ShouldBe(Private);

        var data = Path.Combine(dir.Path, "data");
        var backups = Path.Combine(dir.Path, "kept", "backups");
        string backup;
        using (var store = StateStore.Open(data, TimeProvider.System))
        {
            backup = StoreBackup.Create(store, Path.Combine(dir.Path, "b")).Path;
        }

        var result = StoreRestore.Restore(data, backup, backups, TimeProvider.System);
        File.GetUnixFileMode(backups).ShouldBe(PrivateDir);
        File.GetUnixFileMode(Path.Combine(dir.Path, "kept")).ShouldBe(PrivateDir);
        File.GetUnixFileMode(result.KeptAs!).ShouldBe(Private);
    }
}
