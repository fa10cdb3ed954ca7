using System.Globalization;
using DifyUsageExporter.Usage;
using Microsoft.Data.Sqlite;

namespace DifyUsageExporter.Storage;

/// <summary>
/// The exporter's durable state in one SQLite file under DATA_DIR (WAL mode, file mode 600,
/// versioned migrations applied on open). Split into partial files by concern: the usage ledger,
/// delivery/spool, cycles. Writes from one process are serialised by <see cref="WriteGate"/> so
/// parallel extraction never sees SQLITE_BUSY; other processes wait up to the busy timeout.
/// </summary>
public sealed partial class SqliteStore : ILedgerWriter, IDisposable
{
    public const string FileName = "exporter.db";

    private readonly string connectionString;

    private SqliteStore(string path, TimeProvider time)
    {
        Path = path;
        Time = time;
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>Full path of the database file.</summary>
    public string Path { get; }

    internal TimeProvider Time { get; }

    /// <summary>Serialises this process's write transactions.</summary>
    internal SemaphoreSlim WriteGate { get; } = new(1, 1);

    /// <summary>
    /// Opens (creating if needed) the store in <paramref name="dataDir"/> and applies pending
    /// migrations. Throws <see cref="StoreException"/> with an operator-facing fix when the
    /// directory cannot be created or written.
    /// </summary>
    public static SqliteStore Open(string dataDir, TimeProvider time)
    {
        DataDirectory.EnsureWritable(dataDir);
        var path = System.IO.Path.Combine(System.IO.Path.GetFullPath(dataDir), FileName);
        var store = new SqliteStore(path, time);
        try
        {
            store.Initialise();
        }
        catch (SqliteException ex)
        {
            store.Dispose();
            throw new StoreException($"The state store {path} cannot be opened ({ex.Message}). Check that DATA_DIR is writable by this user and that the file is an exporter database; restore it from a backup if it is corrupt.", ex);
        }

        return store;
    }

    /// <summary>Opens a new pooled connection with the per-connection pragmas applied.</summary>
    internal SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Runs <paramref name="work"/> on a fresh connection while holding <see cref="WriteGate"/>.</summary>
    internal async Task<T> WriteAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken)
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
    internal Task WriteAsync(Func<SqliteConnection, Task> work, CancellationToken cancellationToken) =>
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
        catch (SqliteException ex)
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
        SqliteConnection.ClearPool(new SqliteConnection(connectionString));
    }

    internal string Now() => Format(Time.GetUtcNow());

    internal static string Format(DateTimeOffset instant) =>
        instant.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    internal static DateTimeOffset ParseInstant(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    internal static string Format(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    internal static DateOnly ParseDate(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private void Initialise()
    {
        var existed = File.Exists(Path);
        using (var connection = OpenConnection())
        {
            using var wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
            Migrations.Apply(connection, Now());
        }

        if (!existed && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
