using Microsoft.Data.Sqlite;

namespace DifyUsageExporter.Storage;

/// <summary>What a restore did with the store it replaced.</summary>
/// <param name="KeptAs">Where the replaced store was kept (null when there was none).</param>
/// <param name="Online">True when the content was replaced through the backup API (a running daemon stays consistent); false when the damaged files were replaced.</param>
public sealed record RestoreResult(string? KeptAs, bool Online);

/// <summary>
/// <c>restore</c> without opening the live store through <see cref="StateStore.Open(string, TimeProvider)"/>, so it also
/// works when that store is damaged (the disaster a backup is for) or was migrated by a newer
/// version (rolling back an upgrade). Call under the cycle lock, after <see cref="StoreBackup.Inspect(string, bool)"/>.
/// </summary>
public static class StoreRestore
{
    public static RestoreResult Restore(string dataDir, string backupPath, string backupDirectory, TimeProvider time)
    {
        var source = Path.GetFullPath(backupPath);
        var live = Path.Combine(Path.GetFullPath(dataDir), StateStore.FileName);
        if (string.Equals(source, live, StringComparison.Ordinal))
        {
            throw new StoreException($"{source} is the live state store itself; give a backup file.");
        }

        if (!File.Exists(live))
        {
            ReplaceFiles(source, live);
            return new RestoreResult(null, false);
        }

        string kept;
        try
        {
            // A readable (even newer) store is kept with the backup API.
            kept = StoreBackup.Create(() => OpenLive(live), time.GetUtcNow(), backupDirectory, StoreBackup.PreRestoreTag, allowNewerSchema: true).Path;
        }
        catch (StoreException)
        {
            // The live file is damaged (the copy of it did not pass quick_check, or it is no database
            // at all): keep its bytes for inspection, then replace the files.
            kept = KeepDamaged(live, backupDirectory, time.GetUtcNow());
            ReplaceFiles(source, live);
            return new RestoreResult(kept, false);
        }

        try
        {
            // Overwrite the content through SQLite, so a daemon's open connections see the old content or the new one.
            using var destination = OpenLive(live);
            using var from = StoreBackup.Open(source, SqliteOpenMode.ReadOnly);
            from.BackupDatabase(destination);
            return new RestoreResult(kept, true);
        }
        catch (SqliteException)
        {
            // Readable but not writable as a database (damaged pages): replace the files; the old content is kept above.
            ReplaceFiles(source, live);
            return new RestoreResult(kept, false);
        }
    }

    private static SqliteConnection OpenLive(string live)
    {
        var connection = StoreBackup.Open(live, SqliteOpenMode.ReadWrite);
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 30000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    private static string KeepDamaged(string live, string backupDirectory, DateTimeOffset at)
    {
        PrivateFiles.CreateDirectory(backupDirectory);
        var stem = Path.Combine(Path.GetFullPath(backupDirectory), "exporter-" + at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture) + "-damaged.db");
        foreach (var suffix in new[] { string.Empty, "-wal" })
        {
            if (File.Exists(live + suffix))
            {
                CopyPrivate(live + suffix, stem + suffix);
            }
        }

        return stem;
    }

    private static void ReplaceFiles(string source, string live)
    {
        SqliteConnection.ClearAllPools();
        var temporary = live + ".restoring";
        CopyPrivate(source, temporary);

        // A WAL of the replaced file must not be replayed into the restored one.
        File.Delete(live + "-wal");
        File.Delete(live + "-shm");
        File.Move(temporary, live, overwrite: true);
    }

    /// <summary>Copies into a file that is 0600 from its creation (File.Copy would give it the source's mode first).</summary>
    private static void CopyPrivate(string source, string destination)
    {
        File.Delete(destination);
        using var from = File.OpenRead(source);
        using var to = PrivateFiles.OpenNew(destination, FileAccess.Write);
        from.CopyTo(to);
    }
}
