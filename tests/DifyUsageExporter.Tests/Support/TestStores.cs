using DifyUsageExporter.Storage;
using Npgsql;

namespace DifyUsageExporter.Tests.Support;

/// <summary>
/// The two backends of the state store for specs that run on both: a SQLite file in a directory, or
/// a fresh database on the test PostgreSQL (<see cref="PostgresServer"/>: DIFY_TEST_POSTGRES, else a
/// throwaway cluster; the tests fail, not skip, when neither is available).
/// </summary>
public static class TestStores
{
    /// <summary>The connection string of a new, empty database (pooled, like the exporter's).</summary>
    public static string NewPostgresDatabase() =>
        new NpgsqlConnectionStringBuilder(PostgresServer.CreateDatabaseAsync(CancellationToken.None).GetAwaiter().GetResult()) { Pooling = true }.ConnectionString;

    /// <summary>Opens a store on a new PostgreSQL database.</summary>
    public static StateStore OpenPostgres(TimeProvider time) => StateStore.OpenPostgres(NewPostgresDatabase(), time);
}
