using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace DifyUsageExporter.Storage;

/// <summary>
/// The start-up proof that the state store can be used, run before logging in to Dify (daemon
/// start, <c>run --once</c>, <c>export</c>, <c>usage</c>): <c>PRAGMA quick_check</c> reads every
/// page, and a real write (one key of the <c>kv</c> table, committed in an immediate transaction,
/// so it reaches the WAL on disk) proves the database file itself, not only its directory, is
/// writable. A failure is a <see cref="StoreException"/> naming the cause and the fix
/// (<see cref="StoreDiagnosis"/>), so a cycle never logs in to Dify only to fail at its first write.
/// On PostgreSQL the same committed write proves the connection, the login and the grants
/// (<see cref="PostgresDiagnosis"/>).
/// </summary>
public static class StoreProbe
{
    public const string Key = "store_probe";

    private const string UpsertProbe = "INSERT INTO kv (key, value, updated_at) VALUES (@key, @now, @now) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";

    /// <param name="busyTimeout">How long to wait for another process's write lock (default 30 s, the store's busy timeout).</param>
    public static void Check(StateStore store, TimeSpan? busyTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (store.IsPostgres)
        {
            CheckPostgres(store);
            return;
        }

        var wait = busyTimeout ?? TimeSpan.FromSeconds(30);
        var dataDir = Path.GetDirectoryName(store.Path)!;
        try
        {
            using var connection = store.OpenSqliteConnection();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA busy_timeout = {(long)wait.TotalMilliseconds};";
            command.ExecuteNonQuery();

            var problems = StoreBackup.IntegrityCheck(connection, full: false);
            if (problems.Count > 0)
            {
                throw new StoreException(
                    $"The state store {store.Path} is damaged (PRAGMA quick_check: {string.Join("; ", problems.Take(3))}). Fix: restore the newest backup: `dify-usage-exporter restore <BACKUP_DIR>/exporter-<time>.db --yes` (the damaged files are kept), then start again.")
                { Problem = StoreProblem.Damaged };
            }

            using var transaction = connection.BeginTransaction(deferred: false);
            command.Transaction = transaction;
            command.CommandText = UpsertProbe;
            command.AddWithValue("@key", Key);
            command.AddWithValue("@now", store.Now());
            command.ExecuteNonQuery();
            transaction.Commit();
        }
        catch (SqliteException ex)
        {
            throw StoreDiagnosis.Diagnose(ex, store.Path, dataDir, wait.TotalSeconds);
        }
    }

    private static void CheckPostgres(StateStore store)
    {
        try
        {
            using var connection = store.OpenConnection();
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = UpsertProbe;
            command.AddWithValue("@key", Key);
            command.AddWithValue("@now", store.Now());
            command.ExecuteNonQuery();
            transaction.Commit();
        }
        catch (Exception ex) when (ex is DbException or TimeoutException)
        {
            throw PostgresDiagnosis.Diagnose(ex, store.Location);
        }
    }
}
