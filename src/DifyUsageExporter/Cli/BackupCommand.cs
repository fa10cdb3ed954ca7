using System.CommandLine;
using System.Globalization;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Cli;

/// <summary>
/// <c>backup [--to DIR]</c>: an online, verified copy of the state store (safe while the daemon
/// runs). <c>restore FILE [--yes]</c>: checks the file, keeps the current store as a backup, then
/// replaces the store's content; refused while a cycle holds the lock. See docs/operations.md.
/// </summary>
public static class BackupCommand
{
    public static Command Create(CommandEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var to = new Option<string?>("--to") { Description = "Directory to write the backup into (default BACKUP_DIR, i.e. DATA_DIR/backups)." };
        var command = new Command("backup", "Write a consistent backup of the state store (SQLite online backup; safe while the daemon runs), mode 0600, named with the UTC time, verified by opening it.");
        command.Options.Add(to);
        command.SetAction((parse, cancellationToken) =>
        {
            var settings = env.LoadSettings();
            using var store = OpenExisting(settings, env.Time);
            var file = StoreBackup.Create(store, parse.GetValue(to) ?? settings.BackupDirectory);
            env.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Backup written: {file.Path} ({file.Bytes} bytes, schema version {file.SchemaVersion}); it opened and passed PRAGMA quick_check."));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    public static Command CreateRestore(CommandEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var file = new Argument<string>("file") { Description = "The backup file to restore (see BACKUP_DIR)." };
        var yes = new Option<bool>("--yes") { Description = "Do not ask for confirmation." };
        var command = new Command("restore", "Replace the state store by a backup: the file is checked first, the current store is kept as a backup, and the next cycle re-sends nothing that the backup records as delivered.");
        command.Arguments.Add(file);
        command.Options.Add(yes);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = Path.GetFullPath(parse.GetValue(file)!);
            var settings = env.LoadSettings();
            if (settings.StateDatabaseConnectionString is { } postgres)
            {
                using var state = StateStore.OpenPostgres(postgres, env.Time);
                throw new CliException(PostgresDiagnosis.RestoreAdvice(state.Location));
            }

            var version = StoreBackup.Inspect(path, full: true);
            await env.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{path}: an intact exporter state store (PRAGMA integrity_check ok, schema version {version}).")).ConfigureAwait(false);
            // The live store is not opened as a store here: it may be damaged or from a newer version.
            DataDirectory.EnsureWritable(settings.DataDir);
            var live = Path.Combine(Path.GetFullPath(settings.DataDir), StateStore.FileName);
            using var cycleLock = CommandLock.Acquire(settings.DataDir, "restore");
            if (!await Confirmation.AskAsync(env, $"Replace the content of {live} by {path}? The current content is kept in {settings.BackupDirectory} first.", parse.GetValue(yes)).ConfigureAwait(false))
            {
                await env.Out.WriteLineAsync("Not restored.").ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            var result = StoreRestore.Restore(settings.DataDir, path, settings.BackupDirectory, env.Time);
            if (result.KeptAs is not null)
            {
                await env.Out.WriteLineAsync(result.Online
                    ? $"The replaced store is kept as {result.KeptAs}."
                    : $"The replaced store could not be read as a database; its files are kept as {result.KeptAs} and were replaced (restart a running daemon).").ConfigureAwait(false);
            }

            using var store = StateStore.Open(settings.DataDir, env.Time);
            var report = StoreVerifier.Verify(store, full: false);
            await env.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Restored {path} into {store.Path} (schema version {store.SchemaVersion()}): {report.Events} ledger events, {report.DeliveredKeys} delivered keys, {report.SpoolRows} spool rows. The next cycle re-reads Dify from the restored watermarks and sends only totals that differ from what the backup records as delivered.")).ConfigureAwait(false);
            await VerifyCommand.PrintAsync(env, report).ConfigureAwait(false);
            return report.Ok ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    /// <summary>Opens the store only when it exists: backing up or verifying must not create an empty one.</summary>
    internal static StateStore OpenExisting(ExporterSettings settings, TimeProvider time)
    {
        if (settings.StateDatabaseConnectionString is { } postgres)
        {
            return StateStore.OpenPostgres(postgres, time);
        }

        var dataDir = settings.DataDir;
        var path = Path.Combine(Path.GetFullPath(dataDir), StateStore.FileName);
        if (!File.Exists(path))
        {
            throw new CliException($"There is no state store at {path} (DATA_DIR={dataDir}). Check DATA_DIR; the store is created by the first run.");
        }

        return StateStore.Open(dataDir, time);
    }
}
