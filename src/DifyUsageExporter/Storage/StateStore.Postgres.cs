using System.Data.Common;
using DifyUsageExporter.Configuration;
using Npgsql;

namespace DifyUsageExporter.Storage;

/// <summary>
/// The PostgreSQL backend (STATE_DATABASE_URL, docs/state-postgres.md): the same tables and queries
/// as the SQLite file, shared by several daemon replicas. Migrations run under a session advisory
/// lock so two replicas starting together migrate once; the cycle lock is another session advisory
/// lock held on a connection of its own for the whole cycle, which PostgreSQL releases when that
/// connection ends, however its process died.
/// </summary>
public sealed partial class StateStore
{
    /// <summary>pg_advisory_lock key of "one cycle at a time" (the exporter's own constant: "DIFYUSG" + 1).</summary>
    public const long CycleLockKey = 0x44494659555347_01;

    /// <summary>pg_advisory_lock key held while migrating.</summary>
    internal const long MigrationLockKey = 0x44494659555347_02;

    private readonly NpgsqlDataSource? postgres;
    private readonly string postgresLocation = string.Empty;

    /// <summary>True when the state lives in PostgreSQL (STATE_DATABASE_URL).</summary>
    public bool IsPostgres => postgres is not null;

    private string PostgresLocation => postgresLocation;

    /// <summary>The configured store: PostgreSQL when STATE_DATABASE_URL is set, else the SQLite file in DATA_DIR.</summary>
    public static StateStore Open(ExporterSettings settings, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.StateDatabaseConnectionString is { } postgres ? OpenPostgres(postgres, time) : Open(settings.DataDir, time);
    }

    /// <summary>For commands that only read: PostgreSQL as by <see cref="Open(ExporterSettings, TimeProvider)"/>, SQLite read-only when DATA_DIR cannot be written.</summary>
    public static StateStore OpenForReading(ExporterSettings settings, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.StateDatabaseConnectionString is { } postgres ? OpenPostgres(postgres, time) : OpenForReading(settings.DataDir, time);
    }

    /// <summary>
    /// Opens the PostgreSQL state store of <paramref name="connectionString"/> (from STATE_DATABASE_URL)
    /// and applies pending migrations under the migration lock. Throws <see cref="StoreException"/>
    /// naming STATE_DATABASE_URL and the fix (never the password) when it cannot be used.
    /// </summary>
    public static StateStore OpenPostgres(string connectionString, TimeProvider time)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.ApplicationName ??= "dify-usage-exporter";
        var location = PostgresDiagnosis.Describe(builder);
        var store = new StateStore(NpgsqlDataSource.Create(builder.ConnectionString), location, time);
        try
        {
            using var connection = store.OpenPostgresConnection();
            Execute(connection, null, "SELECT pg_advisory_lock(@k)", ("@k", MigrationLockKey));
            try
            {
                Migrations.Apply(connection, store.Now(), PostgresSchema.All);
            }
            finally
            {
                Execute(connection, null, "SELECT pg_advisory_unlock(@k)", ("@k", MigrationLockKey));
            }
        }
        catch (Exception ex) when (ex is DbException or TimeoutException or InvalidOperationException or StoreException)
        {
            store.Dispose();
            throw ex as StoreException is { } known ? new StoreException($"STATE_DATABASE_URL ({location}): {known.Message}", known) : PostgresDiagnosis.Diagnose(ex, location);
        }

        return store;
    }

    /// <summary>
    /// Takes the cycle lock (a session advisory lock on a connection of its own), or returns null when
    /// another session (a replica's cycle or a command) holds it. Disposing releases it.
    /// </summary>
    public IDisposable? TryAcquirePostgresCycleLock()
    {
        var connection = OpenPostgresConnection();
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT pg_try_advisory_lock(@k)";
            command.AddWithValue("@k", CycleLockKey);
            if (command.ExecuteScalar() is true)
            {
                return new AdvisoryLock(connection);
            }

            connection.Dispose();
            return null;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private StateStore(NpgsqlDataSource dataSource, string location, TimeProvider time)
    {
        Path = string.Empty;
        Time = time;
        connectionString = string.Empty;
        postgres = dataSource;
        postgresLocation = location;
    }

    /// <summary>A pooled connection; failures are Npgsql's (DbException), which name no password.</summary>
    private DbConnection OpenPostgresConnection() => postgres!.OpenConnection();

    private void DisposePostgres() => postgres?.Dispose();

    /// <summary>The held cycle lock: unlocking explicitly, so the pooled connection goes back without it.</summary>
    private sealed class AdvisoryLock(DbConnection connection) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                Execute(connection, null, "SELECT pg_advisory_unlock(@k)", ("@k", CycleLockKey));
            }
            catch (DbException)
            {
                // The connection is gone, and with it the lock (PostgreSQL ends the session's locks).
            }
            finally
            {
                connection.Dispose();
            }
        }
    }
}
