using Microsoft.Data.Sqlite;

namespace DifyUsageExporter.Storage;

/// <summary>One export cycle as recorded in the store (for /health, metrics and status).</summary>
public sealed record CycleRecord(string Id, string Trigger, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Outcome, string? Summary);

public sealed partial class SqliteStore
{
    /// <summary>Outcome written for cycles a crashed process left unfinished.</summary>
    public const string AbandonedOutcome = "abandoned";

    /// <summary>Records the start of a cycle; call while holding the cycle lock.</summary>
    public async Task RecordCycleStartAsync(string id, string trigger, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        await WriteAsync(async connection =>
        {
            using var transaction = connection.BeginTransaction();
            // Holding the lock means no other cycle runs: unfinished rows belong to crashed processes.
            Execute(connection, transaction, "UPDATE cycles SET outcome = $o, finished_at = $at, summary = 'the process ended before the cycle finished' WHERE finished_at IS NULL", ("$o", AbandonedOutcome), ("$at", Format(startedAt)));
            Execute(connection, transaction, "INSERT INTO cycles (id, trigger, started_at) VALUES ($id, $t, $at)", ("$id", id), ("$t", trigger), ("$at", Format(startedAt)));
            transaction.Commit();
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records the end of a cycle with its outcome (success, spooled, failed, cancelled).</summary>
    public async Task RecordCycleEndAsync(string id, DateTimeOffset finishedAt, string outcome, string summary, CancellationToken cancellationToken)
    {
        await WriteAsync(async connection =>
        {
            Execute(connection, null, "UPDATE cycles SET finished_at = $at, outcome = $o, summary = $s WHERE id = $id", ("$at", Format(finishedAt)), ("$o", outcome), ("$s", summary), ("$id", id));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The most recently started cycle, or null when none ran yet.</summary>
    public CycleRecord? ReadLastCycle() => ReadCycle("SELECT id, trigger, started_at, finished_at, outcome, summary FROM cycles ORDER BY started_at DESC, rowid DESC LIMIT 1");

    /// <summary>The most recent cycle that ended with <paramref name="outcome"/>, or null.</summary>
    public CycleRecord? ReadLastCycleWithOutcome(string outcome) =>
        ReadCycle("SELECT id, trigger, started_at, finished_at, outcome, summary FROM cycles WHERE outcome = $o ORDER BY finished_at DESC, rowid DESC LIMIT 1", ("$o", outcome));

    private CycleRecord? ReadCycle(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new CycleRecord(
            reader.GetString(0),
            reader.GetString(1),
            ParseInstant(reader.GetString(2)),
            reader.IsDBNull(3) ? null : ParseInstant(reader.GetString(3)),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetString(5));
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        command.ExecuteNonQuery();
    }
}
