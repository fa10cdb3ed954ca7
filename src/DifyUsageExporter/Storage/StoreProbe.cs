using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace DifyUsageExporter.Storage;

/// <summary>
/// The start-up proof that the state store can be used, run before logging in to Dify (daemon
/// start, <c>run --once</c>, <c>export</c>, <c>usage</c>): a real write (one key of the <c>kv</c>
/// table, committed in an immediate transaction, so it reaches the WAL on disk) proves the database
/// file itself, not only its directory, is writable, and <c>PRAGMA quick_check</c> reads every page
/// when it is due (<see cref="IntegrityCheckDue"/>: after an unclean shutdown, or when the last
/// passed check is a day old; it costs about a second per million events, so not on every start,
/// docs/operations.md "Start-up checks of the state store"). A failure is a
/// <see cref="StoreException"/> naming the cause and the fix (<see cref="StoreDiagnosis"/>), so a
/// cycle never logs in to Dify only to fail at its first write. On PostgreSQL the same committed
/// write proves the connection, the login and the grants (<see cref="PostgresDiagnosis"/>).
/// </summary>
public static class StoreProbe
{
    public const string Key = "store_probe";

    /// <summary>The kv key holding when <c>quick_check</c> last passed at start-up.</summary>
    public const string CheckedKey = "store_probe.quick_check_passed_at";

    /// <summary>How old the last passed <c>quick_check</c> may be before a start runs it again.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromDays(1);

    /// <summary>
    /// True when a start must run <c>quick_check</c>: the store was not closed cleanly (SQLite left its
    /// write-ahead log behind: a crash, a kill, a power loss, or another process still has it open),
    /// no check passed yet, or the last one passed <see cref="CheckInterval"/> ago or more.
    /// </summary>
    public static bool IntegrityCheckDue(bool walLeftBehind, DateTimeOffset? lastPassed, DateTimeOffset now) =>
        walLeftBehind || lastPassed is not { } passed || now - passed >= CheckInterval || now < passed;

    private const string UpsertProbe = "INSERT INTO kv (key, value, updated_at) VALUES (@key, @now, @now) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";

    /// <param name="busyTimeout">How long to wait for another process's write lock (default 30 s, the store's busy timeout).</param>
    /// <returns>True when <c>quick_check</c> ran (and passed).</returns>
    public static bool Check(StateStore store, TimeSpan? busyTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (store.IsPostgres)
        {
            CheckPostgres(store);
            return false;
        }

        var wait = busyTimeout ?? TimeSpan.FromSeconds(30);
        var dataDir = Path.GetDirectoryName(store.Path)!;
        try
        {
            using var connection = store.OpenSqliteConnection();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA busy_timeout = {(long)wait.TotalMilliseconds};";
            command.ExecuteNonQuery();

            // Reading the key already reads pages: a damaged store may fail here, as SQLITE_CORRUPT (Damaged).
            command.CommandText = "SELECT value FROM kv WHERE key = @key";
            command.AddWithValue("@key", CheckedKey);
            var lastPassed = command.ExecuteScalar() is string text && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var at) ? at : (DateTimeOffset?)null;
            command.Parameters.Clear();
            var now = store.Time.GetUtcNow();
            var due = IntegrityCheckDue(store.WalLeftBehind, lastPassed, now);
            var problems = due ? StoreBackup.IntegrityCheck(connection, full: false) : [];
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
            if (due)
            {
                command.Parameters["@key"].Value = CheckedKey;
                command.ExecuteNonQuery();
            }

            transaction.Commit();
            return due;
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
