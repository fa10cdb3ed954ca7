using System.Globalization;
using Microsoft.Data.Sqlite;

namespace DifyUsageExporter.Storage;

/// <summary>Why the state store cannot be written or read.</summary>
public enum StoreProblem
{
    Other,
    DiskFull,
    ReadOnlyFileSystem,
    PermissionDenied,
    Locked,
    Damaged,
}

/// <summary>
/// Turns a failure to create, write or read the state store into one of the causes an operator
/// can fix (docs/operations.md, "Start-up checks of the state store"): disk full, read-only file
/// system, wrong owner, locked by another process, damaged; each message ends with the fix.
/// </summary>
public static class StoreDiagnosis
{
    // errno values (Linux, asm-generic/errno-base.h); .NET puts them in IOException.HResult.
    private const int Eperm = 1, Eacces = 13, Enospc = 28, Erofs = 30, Edquot = 122;

    // SQLite primary result codes (https://sqlite.org/rescode.html).
    private const int SqlitePerm = 3, SqliteBusy = 5, SqliteLocked = 6, SqliteReadOnly = 8, SqliteIoErr = 10, SqliteCorrupt = 11, SqliteFull = 13, SqliteCantOpen = 14, SqliteNotADb = 26;

    /// <summary>
    /// The cause, from the SQLite result code and/or errno of the failure and the facts of the file
    /// system. Pure, so every branch is unit-tested; <see cref="Diagnose"/> gathers the facts.
    /// </summary>
    public static StoreProblem Classify(int? sqliteCode, int? errno, bool readOnlyMount, long? freeBytes)
    {
        var primary = sqliteCode is { } code ? code & 0xFF : (int?)null;
        if (primary == SqliteFull || errno is Enospc or Edquot || (freeBytes == 0 && primary is SqliteIoErr or SqliteCantOpen))
        {
            return StoreProblem.DiskFull;
        }

        if (primary is SqliteBusy or SqliteLocked)
        {
            return StoreProblem.Locked;
        }

        if (primary is SqliteCorrupt or SqliteNotADb)
        {
            return StoreProblem.Damaged;
        }

        var cannotWrite = errno is Erofs or Eacces or Eperm || primary is SqliteReadOnly or SqliteCantOpen or SqlitePerm;
        if (errno == Erofs || (cannotWrite && readOnlyMount))
        {
            return StoreProblem.ReadOnlyFileSystem;
        }

        return cannotWrite ? StoreProblem.PermissionDenied : StoreProblem.Other;
    }

    /// <summary>
    /// A <see cref="StoreException"/> whose message names the cause and its fix. <paramref name="path"/>
    /// is the file or directory whose use failed; <paramref name="busySeconds"/> how long SQLite waited for a lock.
    /// </summary>
    public static StoreException Diagnose(Exception failure, string path, string dataDir, double busySeconds = 30)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var dir = Path.GetFullPath(dataDir);
        var full = Path.GetFullPath(path);
        var (sqliteCode, errno) = Codes(failure);
        var mount = UnixFileFacts.ReadOnlyMount(full);
        var free = UnixFileFacts.FreeBytes(dir);
        var problem = Classify(sqliteCode, errno, mount is not null, free);
        var detail = failure.Message.TrimEnd('.');
        var message = problem switch
        {
            StoreProblem.DiskFull =>
                $"The file system of DATA_DIR {dir} is full ({Bytes(free)} free; {detail}): the state store {full} cannot be written. " +
                $"Fix: free space or enlarge the volume (`df -h {dir}`), then start again.",
            StoreProblem.ReadOnlyFileSystem =>
                $"DATA_DIR {dir} is on a read-only file system (mounted read-only at {mount ?? "?"}; {detail}): the state store {full} cannot be written. " +
                "Fix: mount it read-write (Docker: remove `:ro` from the volume; systemd: list it in ReadWritePaths=), then start again. Read-only commands (spool list, watermark show, usage --ledger, config) still work.",
            StoreProblem.PermissionDenied => PermissionMessage(full, dir, detail),
            StoreProblem.Locked =>
                string.Create(CultureInfo.InvariantCulture, $"The state store {full} is locked by another process (SQLITE_BUSY: its write lock was not released within {busySeconds:0.#} s; {detail}). ") +
                $"Fix: find the process with `fuser -v {full}` (a second exporter on the same DATA_DIR, or an sqlite3 shell with an open transaction), stop it, then start again.",
            StoreProblem.Damaged =>
                $"The state store {full} is damaged ({detail}). Fix: restore the newest backup: `dify-usage-exporter restore <BACKUP_DIR>/exporter-<time>.db --yes` (the damaged files are kept), then start again.",
            _ =>
                $"The state store {full} cannot be used ({detail}). Fix: check that DATA_DIR {dir} is a writable local directory of the exporter's user and that the file is an exporter database; restore it from a backup if it is corrupt.",
        };
        return new StoreException(message, failure) { Problem = problem };
    }

    private static string PermissionMessage(string full, string dir, string detail)
    {
        var uid = UnixFileFacts.ProcessUid();
        var target = full;
        while (!Path.Exists(target) && Path.GetDirectoryName(target) is { } parent)
        {
            target = parent;
        }

        var owner = UnixFileFacts.OwnerUid(target);
        var mode = OperatingSystem.IsWindows() || !Path.Exists(target) ? "?" : PrivateFiles.Octal(File.GetUnixFileMode(target));
        var who = UnixFileFacts.Uid(uid);
        var fix = owner is not null && owner == uid
            ? $"Fix: `chmod 700 {dir}` and `chmod 600 {dir}/*` (the owner lacks write permission)"
            : $"Fix: `chown -R {(uid?.ToString(CultureInfo.InvariantCulture) ?? "<uid>")} {dir}` (with Docker the image runs as uid 10001: use the named volume of compose.yaml, or chown the bind-mounted host directory)";
        return $"DATA_DIR {dir} is not writable by the user the exporter runs as ({who}): {target} belongs to {UnixFileFacts.Uid(owner)} with mode {mode}; permission denied ({detail}). {fix}, then start again.";
    }

    private static (int? Sqlite, int? Errno) Codes(Exception failure)
    {
        for (var ex = failure; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                case SqliteException sqlite:
                    return (sqlite.SqliteExtendedErrorCode != 0 ? sqlite.SqliteExtendedErrorCode : sqlite.SqliteErrorCode, null);
                case UnauthorizedAccessException denied:
                    return (null, denied.InnerException is IOException { HResult: > 0 and < 4096 } inner ? inner.HResult : Eacces);
                case IOException io when io.HResult is > 0 and < 4096:
                    return (null, io.HResult);
                default:
                    break;
            }
        }

        return (null, null);
    }

    private static string Bytes(long? free) => free switch
    {
        null => "unknown space",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{free} bytes"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{free / (1024.0 * 1024):0.#} MiB"),
    };
}
