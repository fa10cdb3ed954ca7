using System.Data.Common;
using System.Globalization;
using DifyUsageExporter.Usage;
using Microsoft.Data.Sqlite;

namespace DifyUsageExporter.Storage;

/// <summary>
/// The exporter's durable state: one SQLite file under DATA_DIR (WAL mode, file mode 600), or a
/// PostgreSQL database (STATE_DATABASE_URL, docs/state-postgres.md; see StateStore.Postgres.cs),
/// with versioned migrations applied on open. The queries are plain ADO.NET that both backends
/// run unchanged (@name parameters, ON CONFLICT upserts, RETURNING); the few differences are
/// <see cref="IsPostgres"/> branches. Split into partial files by concern: the usage ledger,
/// delivery/spool, cycles. Writes from one process are serialised by <see cref="WriteGate"/> so
/// parallel extraction never sees SQLITE_BUSY; other processes wait up to the busy timeout.
/// </summary>
public sealed partial class StateStore : ILedgerWriter, IDisposable
{
    public const string FileName = "exporter.db";

    private readonly string connectionString;

    private StateStore(string path, TimeProvider time, ReadAccess access = ReadAccess.ReadWrite)
    {
        Path = path;
        Time = time;
        ReadOnly = access != ReadAccess.ReadWrite;
        // Read-only (a read-only DATA_DIR): a URI, so SQLite never creates a file there; immutable
        // when the WAL's shared-memory file is absent and cannot be created (sqlite.org/wal.html#readonly).
        var uri = new Uri(path).AbsoluteUri + (access == ReadAccess.Immutable ? "?mode=ro&immutable=1" : "?mode=ro");
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = ReadOnly ? uri : path,
            Mode = ReadOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    private enum ReadAccess
    {
        ReadWrite,
        ReadOnly,
        Immutable,
    }

    /// <summary>Full path of the database file (SQLite; empty on PostgreSQL, see <see cref="Location"/>).</summary>
    public string Path { get; }

    /// <summary>Where the state is, for messages: the SQLite file's path, or the PostgreSQL server and database (never the password).</summary>
    public string Location => IsPostgres ? PostgresLocation : Path;

    /// <summary>True when opened by <see cref="OpenForReading(string, TimeProvider)"/> on a DATA_DIR that cannot be written.</summary>
    public bool ReadOnly { get; }

    /// <summary>
    /// SQLite's write-ahead log was there, not empty, when this process opened the store: the last
    /// process using it did not close it (crashed, killed, power loss), or another one still has it
    /// open. SQLite deletes the log when the last connection closes cleanly. See <see cref="StoreProbe"/>.
    /// </summary>
    public bool WalLeftBehind { get; private set; }

    /// <summary>What opening found and fixed or could not use (tightened modes, read-only access); the caller logs them as warnings.</summary>
    public IReadOnlyList<string> Warnings { get; private set; } = [];

    internal TimeProvider Time { get; }

    /// <summary>Serialises this process's write transactions.</summary>
    internal SemaphoreSlim WriteGate { get; } = new(1, 1);

    /// <summary>
    /// Opens (creating if needed) the store in <paramref name="dataDir"/> and applies pending
    /// migrations. Throws <see cref="StoreException"/> with an operator-facing fix when the
    /// directory cannot be created or written.
    /// </summary>
    public static StateStore Open(string dataDir, TimeProvider time)
    {
        var warnings = DataDirectory.EnsureWritable(dataDir);
        var path = System.IO.Path.Combine(System.IO.Path.GetFullPath(dataDir), FileName);
        var wal = new FileInfo(path + "-wal");
        var store = new StateStore(path, time) { Warnings = warnings, WalLeftBehind = wal.Exists && wal.Length > 0 };
        try
        {
            // Created 0600 before SQLite opens it: SQLite gives the -wal and -shm it creates the
            // database file's mode, so the WAL (which holds the same rows) is private too.
            PrivateFiles.CreateFile(path);
            store.Initialise();
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            store.Dispose();
            throw StoreDiagnosis.Diagnose(ex, path, dataDir);
        }

        return store;
    }

    /// <summary>
    /// For commands that only read (spool list, watermark show, usage --ledger): a writable DATA_DIR
    /// is opened as by <see cref="Open(string, TimeProvider)"/>; one that cannot be written (read-only mount, another
    /// owner, full disk) is opened read-only, creating and migrating nothing, with a warning.
    /// </summary>
    public static StateStore OpenForReading(string dataDir, TimeProvider time)
    {
        var dir = System.IO.Path.GetFullPath(dataDir);
        var path = System.IO.Path.Combine(dir, FileName);
        if (!Directory.Exists(dir) || DataDirectory.TryProbe(dir) is not { } failure)
        {
            return Open(dataDir, time);
        }

        if (!File.Exists(path))
        {
            throw new StoreException($"There is no state store at {path} yet, and DATA_DIR {dir} cannot be written ({failure.Message.TrimEnd('.')}), so none can be created. Check DATA_DIR; the store is created by the first run on a writable DATA_DIR.", failure);
        }

        var reason = $"DATA_DIR {dir} cannot be written ({failure.Message.TrimEnd('.')}): the state store is opened read-only";
        var shm = File.Exists(path + "-shm");
        var wal = new FileInfo(path + "-wal");
        var store = new StateStore(path, time, shm ? ReadAccess.ReadOnly : ReadAccess.Immutable);
        try
        {
            store.CheckReadableSchema();
        }
        catch (SqliteException) when (shm)
        {
            // A -shm file that cannot be used read-only: read the database file alone.
            store.Dispose();
            store = new StateStore(path, time, ReadAccess.Immutable);
            shm = false;
            store.CheckReadableSchema();
        }

        store.Warnings = !shm && wal.Exists && wal.Length > 0
            ? [reason + string.Create(CultureInfo.InvariantCulture, $"; its write-ahead log ({wal.Length} bytes) cannot be read without a writable directory, so the newest changes may be missing.")]
            : [reason + "."];
        return store;
    }

    /// <summary>Opens a new pooled connection (SQLite: with the per-connection pragmas applied).</summary>
    internal DbConnection OpenConnection() => IsPostgres ? OpenPostgresConnection() : OpenSqliteConnection();

    /// <summary>A connection to the SQLite file, for what only SQLite has (online backup, PRAGMA checks).</summary>
    internal SqliteConnection OpenSqliteConnection()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Runs <paramref name="work"/> on a fresh connection while holding <see cref="WriteGate"/>.</summary>
    internal async Task<T> WriteAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await WriteGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = OpenConnection();
            return await work(connection).ConfigureAwait(false);
        }
        finally
        {
            WriteGate.Release();
        }
    }

    /// <summary>Runs <paramref name="work"/> on a fresh connection while holding <see cref="WriteGate"/>.</summary>
    internal Task WriteAsync(Func<DbConnection, Task> work, CancellationToken cancellationToken) =>
        WriteAsync(async connection =>
        {
            await work(connection).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Returns true when the store answers a trivial query (used by /health).</summary>
    public bool IsHealthy(out string? problem)
    {
        try
        {
            using var connection = OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM schema_migrations";
            command.ExecuteScalar();
            problem = null;
            return true;
        }
        catch (DbException ex)
        {
            // Reported by /health as 503; the caller logs it.
            problem = ex.Message;
            return false;
        }
    }

    /// <summary>The schema version after migrations.</summary>
    public int SchemaVersion()
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        WriteGate.Dispose();
        if (IsPostgres)
        {
            DisposePostgres();
            return;
        }

        SqliteConnection.ClearPool(new SqliteConnection(connectionString));
    }

    internal string Now() => Format(Time.GetUtcNow());

    internal static string Format(DateTimeOffset instant) =>
        Iso.Instant(instant);

    internal static DateTimeOffset ParseInstant(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    internal static string Format(DateOnly date) => Iso.Day(date);

    internal static DateOnly ParseDate(string text) => Iso.ParseDay(text);

    private void Initialise()
    {
        using var connection = OpenSqliteConnection();
        using var wal = connection.CreateCommand();
        wal.CommandText = "PRAGMA journal_mode = WAL;";
        wal.ExecuteNonQuery();
        Migrations.Apply(connection, Now());
    }

    /// <summary>A read-only store cannot be migrated: it must have exactly this build's schema.</summary>
    private void CheckReadableSchema()
    {
        int version;
        try
        {
            version = SchemaVersion();
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 1)
        {
            // "no such table: schema_migrations"
            throw new StoreException($"{Path} is not an exporter state store (it has no schema_migrations table).", ex);
        }

        var latest = Migrations.All[^1].Version;
        if (version != latest)
        {
            throw new StoreException(version < latest
                ? $"The state store {Path} has schema version {version}; this exporter needs {latest} and cannot migrate it on a read-only DATA_DIR. Run any command once with DATA_DIR writable (the migration is automatic), or use the exporter version that wrote it."
                : $"The state store {Path} has schema version {version}, newer than this exporter understands ({latest}). Use the exporter version that wrote it.");
        }
    }
}
