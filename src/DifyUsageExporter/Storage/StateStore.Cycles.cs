using System.Data.Common;

namespace DifyUsageExporter.Storage;

/// <summary>One export cycle as recorded in the store (for /health, metrics and status).</summary>
public sealed record CycleRecord(string Id, string Trigger, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Outcome, string? Summary)
{
    /// <summary>Extraction finished for every day and nothing was left pending (dead letters aside).</summary>
    public bool CaughtUp { get; init; }

    /// <summary>Apps the cycle skipped (unknown mode).</summary>
    public int AppsSkipped { get; init; }

    /// <summary>Why the cycle failed, when it is a class /health reports on its own (<see cref="StateStore.CredentialsFailure"/>).</summary>
    public string? FailureKind { get; init; }
}

/// <summary>What a finished cycle leaves for /health and RUN_ON_START besides its outcome.</summary>
public sealed record CycleFacts(bool CaughtUp, int AppsSkipped, string? FailureKind)
{
    public static CycleFacts None { get; } = new(false, 0, null);
}

public sealed partial class StateStore
{
    /// <summary>Outcome written for cycles a crashed process left unfinished.</summary>
    public const string AbandonedOutcome = "abandoned";

    /// <summary>failure_kind of a cycle that failed because Dify rejected the credentials.</summary>
    public const string CredentialsFailure = "credentials";

    private const string CycleColumns = "id, trigger, started_at, finished_at, outcome, summary, caught_up, apps_skipped, failure_kind";

    /// <summary>
    /// Closes the rows of cycles a crashed process left without an outcome as abandoned; call
    /// while holding the cycle lock (then no other cycle runs). Returns how many were closed.
    /// </summary>
    public Task<int> CloseAbandonedCyclesAsync(DateTimeOffset at, CancellationToken cancellationToken) =>
        WriteAsync(connection => Task.FromResult(Execute(connection, null, "UPDATE cycles SET outcome = @o, finished_at = @at, summary = 'the process ended before the cycle finished' WHERE finished_at IS NULL", ("@o", AbandonedOutcome), ("@at", Format(at)))), cancellationToken);

    /// <summary>Records the start of a cycle; call while holding the cycle lock.</summary>
    public async Task RecordCycleStartAsync(string id, string trigger, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        await WriteAsync(async connection =>
        {
            using var transaction = connection.BeginTransaction();
            // Holding the lock means no other cycle runs: unfinished rows belong to crashed processes.
            Execute(connection, transaction, "UPDATE cycles SET outcome = @o, finished_at = @at, summary = 'the process ended before the cycle finished' WHERE finished_at IS NULL", ("@o", AbandonedOutcome), ("@at", Format(startedAt)));
            Execute(connection, transaction, "INSERT INTO cycles (id, trigger, started_at) VALUES (@id, @t, @at)", ("@id", id), ("@t", trigger), ("@at", Format(startedAt)));
            transaction.Commit();
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records the end of a cycle with its outcome (success, spooled, failed, cancelled).</summary>
    public Task RecordCycleEndAsync(string id, DateTimeOffset finishedAt, string outcome, string summary, CancellationToken cancellationToken) =>
        RecordCycleEndAsync(id, finishedAt, outcome, summary, new CycleFacts(outcome == "success", 0, null), cancellationToken);

    /// <summary>Records the end of a cycle with its outcome and what /health needs to know of it.</summary>
    public async Task RecordCycleEndAsync(string id, DateTimeOffset finishedAt, string outcome, string summary, CycleFacts facts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(facts);
        await WriteAsync(async connection =>
        {
            Execute(
                connection,
                null,
                "UPDATE cycles SET finished_at = @at, outcome = @o, summary = @s, caught_up = @c, apps_skipped = @k, failure_kind = @f WHERE id = @id",
                ("@at", Format(finishedAt)), ("@o", outcome), ("@s", summary), ("@c", facts.CaughtUp ? 1 : 0), ("@k", facts.AppsSkipped), ("@f", (object?)facts.FailureKind ?? DBNull.Value), ("@id", id));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The most recently started cycle, or null when none ran yet.</summary>
    public CycleRecord? ReadLastCycle() => ReadCycle($"SELECT {CycleColumns} FROM cycles ORDER BY started_at DESC, rowid DESC LIMIT 1");

    /// <summary>The most recently started cycle that has finished, or null.</summary>
    public CycleRecord? ReadLastFinishedCycle() => ReadCycle($"SELECT {CycleColumns} FROM cycles WHERE finished_at IS NOT NULL ORDER BY started_at DESC, rowid DESC LIMIT 1");

    /// <summary>The most recent cycle that ended with <paramref name="outcome"/>, or null.</summary>
    public CycleRecord? ReadLastCycleWithOutcome(string outcome) =>
        ReadCycle($"SELECT {CycleColumns} FROM cycles WHERE outcome = @o ORDER BY finished_at DESC, rowid DESC LIMIT 1", ("@o", outcome));

    /// <summary>The most recently started cycle that caught up (the "successful cycle" of /health and RUN_ON_START), or null.</summary>
    public CycleRecord? ReadLastCaughtUpCycle() =>
        ReadCycle($"SELECT {CycleColumns} FROM cycles WHERE caught_up = 1 ORDER BY started_at DESC, rowid DESC LIMIT 1");

    /// <summary>The first cycle ever recorded, or null.</summary>
    public CycleRecord? ReadFirstCycle() => ReadCycle($"SELECT {CycleColumns} FROM cycles ORDER BY started_at, rowid LIMIT 1");

    private CycleRecord? ReadCycle(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.AddWithValue(name, value);
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
            reader.IsDBNull(5) ? null : reader.GetString(5))
        {
            CaughtUp = reader.GetInt64(6) == 1,
            AppsSkipped = reader.GetInt32(7),
            FailureKind = reader.IsDBNull(8) ? null : reader.GetString(8),
        };
    }

    private static int Execute(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.AddWithValue(name, value);
        }

        return command.ExecuteNonQuery();
    }
}
