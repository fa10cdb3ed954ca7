using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace DifyUsageExporter.Storage;

/// <summary>A backup file of the state store, checked by opening it.</summary>
public sealed record BackupFile(string Path, DateTimeOffset TakenAt, long Bytes, int SchemaVersion);

/// <summary>
/// Consistent copies of the state store with SQLite's online backup API (a file copy of a WAL
/// database while the daemon writes can be torn): named <c>exporter-YYYYMMDDTHHMMSSZ.db</c> in UTC,
/// written as <c>.partial</c> with mode 0600 and renamed only after the copy opened and passed
/// <c>PRAGMA quick_check</c>, so a file with the final name is always a usable backup.
/// </summary>
public static partial class StoreBackup
{
    public const string PreRestoreTag = "pre-restore";

    /// <summary>Writes a backup of <paramref name="store"/> into <paramref name="directory"/> (created with mode 0700 when missing).</summary>
    /// <param name="tag">Optional suffix of the file name (e.g. pre-restore).</param>
    public static BackupFile Create(StateStore store, string directory, string? tag = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (store.IsPostgres)
        {
            throw new StoreException(PostgresDiagnosis.BackupAdvice(store.Location));
        }

        return Create(store.OpenSqliteConnection, store.Time.GetUtcNow(), directory, tag, allowNewerSchema: false);
    }

    /// <summary>Writes a backup of the database <paramref name="openSource"/> connects to.</summary>
    /// <param name="allowNewerSchema">True when keeping a store a newer exporter version migrated (before a roll-back restore).</param>
    internal static BackupFile Create(Func<SqliteConnection> openSource, DateTimeOffset takenAt, string directory, string? tag, bool allowNewerSchema)
    {
        var dir = System.IO.Path.GetFullPath(directory);
        try
        {
            if (!Directory.Exists(dir))
            {
                PrivateFiles.CreateDirectory(dir);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"The backup directory {dir} cannot be created ({ex.Message}). Create it and make it writable by the exporter's user, or set BACKUP_DIR to a writable directory.", ex);
        }

        var path = FreeName(dir, takenAt, tag);
        var partial = path + ".partial";
        try
        {
            CreatePrivateFile(partial);
            using (var source = openSource())
            using (var destination = Open(partial, SqliteOpenMode.ReadWrite))
            {
                source.BackupDatabase(destination);
                // The live store is in WAL mode and the copy inherits it; a backup is one self-contained file.
                using var journal = destination.CreateCommand();
                journal.CommandText = "PRAGMA journal_mode = DELETE;";
                journal.ExecuteNonQuery();
            }

            var version = Inspect(partial, full: false, allowNewerSchema);
            File.Move(partial, path);
            return new BackupFile(path, takenAt, new FileInfo(path).Length, version);
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            TryDelete(partial);
            throw new StoreException($"The backup to {path} failed ({ex.Message}). Check free space and permissions of {dir}.", ex);
        }
        catch
        {
            TryDelete(partial);
            throw;
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> read-only and checks that it is an intact exporter database
    /// (<c>PRAGMA quick_check</c>, or <c>integrity_check</c> when <paramref name="full"/>; the
    /// schema_migrations table; a schema version this build understands). Returns the schema version;
    /// throws <see cref="StoreException"/> naming the file and the problem.
    /// </summary>
    public static int Inspect(string path, bool full) => Inspect(path, full, allowNewerSchema: false);

    private static int Inspect(string path, bool full, bool allowNewerSchema)
    {
        var file = System.IO.Path.GetFullPath(path);
        if (!File.Exists(file))
        {
            throw new StoreException($"{file} does not exist.");
        }

        try
        {
            using var connection = Open(file, SqliteOpenMode.ReadOnly);
            var problems = IntegrityCheck(connection, full);
            if (problems.Count > 0)
            {
                throw new StoreException($"{file} is damaged: {string.Join("; ", problems.Take(5))}. Use another backup.");
            }

            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
            if (Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
            {
                throw new StoreException($"{file} is an SQLite database but not an exporter state store (it has no schema_migrations table).");
            }

            command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
            var version = Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            var latest = Migrations.All[^1].Version;
            if (version > latest && !allowNewerSchema)
            {
                throw new StoreException($"{file} has schema version {version}, newer than this exporter understands ({latest}). Restore it with the exporter version that made it.");
            }

            return version;
        }
        catch (SqliteException ex)
        {
            throw new StoreException($"{file} is not a usable exporter backup: {ex.Message.TrimEnd('.')} (SQLite error {ex.SqliteErrorCode}). It is damaged or not a database; use another backup.", ex);
        }
    }

    /// <summary>The rows of <c>PRAGMA integrity_check</c> (or <c>quick_check</c>) other than "ok".</summary>
    internal static List<string> IntegrityCheck(SqliteConnection connection, bool full)
    {
        using var command = connection.CreateCommand();
        command.CommandText = full ? "PRAGMA integrity_check(100)" : "PRAGMA quick_check(100)";
        using var reader = command.ExecuteReader();
        var problems = new List<string>();
        while (reader.Read())
        {
            var row = reader.GetString(0);
            if (!string.Equals(row, "ok", StringComparison.Ordinal))
            {
                problems.Add(row);
            }
        }

        return problems;
    }

    /// <summary>
    /// Deletes backups in <paramref name="directory"/> taken more than <paramref name="retentionDays"/>
    /// days before <paramref name="now"/>; the newest backup is always kept. Only files named like
    /// this class names them are touched. Returns the deleted paths.
    /// </summary>
    public static IReadOnlyList<string> Prune(string directory, int retentionDays, DateTimeOffset now)
    {
        var backups = List(directory);
        var cutoff = now - TimeSpan.FromDays(retentionDays);
        var deleted = new List<string>();
        foreach (var (path, takenAt) in backups.Skip(1).Where(b => b.TakenAt < cutoff))
        {
            File.Delete(path);
            deleted.Add(path);
        }

        return deleted;
    }

    /// <summary>The backups in <paramref name="directory"/>, newest first.</summary>
    public static IReadOnlyList<(string Path, DateTimeOffset TakenAt)> List(string directory)
    {
        var dir = System.IO.Path.GetFullPath(directory);
        if (!Directory.Exists(dir))
        {
            return [];
        }

        return Directory.EnumerateFiles(dir, "exporter-*.db")
            .Select(p => (Path: p, Match: BackupName().Match(System.IO.Path.GetFileName(p))))
            .Where(x => x.Match.Success)
            .Select(x => (x.Path, TakenAt: new DateTimeOffset(DateTime.ParseExact(x.Match.Groups["at"].Value, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal), TimeSpan.Zero)))
            .OrderByDescending(x => x.TakenAt)
            .ThenByDescending(x => x.Path, StringComparer.Ordinal)
            .ToList();
    }

    internal static SqliteConnection Open(string path, SqliteOpenMode mode)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = mode, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static string FreeName(string dir, DateTimeOffset at, string? tag)
    {
        var stem = "exporter-" + at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + (tag is null ? string.Empty : "-" + tag);
        var path = System.IO.Path.Combine(dir, stem + ".db");
        for (var n = 2; File.Exists(path) || File.Exists(path + ".partial"); n++)
        {
            path = System.IO.Path.Combine(dir, $"{stem}-{n.ToString(CultureInfo.InvariantCulture)}.db");
        }

        return path;
    }

    private static void CreatePrivateFile(string path)
    {
        // SQLite gives the copy's -journal/-wal this file's mode: 0600 from the start.
        using var stream = PrivateFiles.OpenNew(path, FileAccess.Write);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Only cleanup of a failed backup's partial file; the error being reported matters more.
        }
    }

    [GeneratedRegex(@"^exporter-(?<at>\d{8}T\d{6}Z)(-[a-z0-9-]+)?\.db$")]
    private static partial Regex BackupName();
}
