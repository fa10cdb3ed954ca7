using System.Data;

namespace DifyUsageExporter.Storage;

/// <summary>What a delivery attempt leaves in the spool: failed (pending, counted), rejected (dead letter per key), revived, discarded; and the delivery state values.</summary>
public sealed partial class StateStore
{
    /// <summary>
    /// Records a failed send of <paramref name="rows"/> (unless a newer total replaced them meanwhile):
    /// adds <paramref name="attempts"/> and the error, and when <paramref name="countCycle"/> one
    /// failed cycle; rows reaching <paramref name="maxSpoolRetries"/> failed cycles become dead
    /// letters. Callers count a cycle only for an unexplained answer (docs/delivery.md): an
    /// unreachable target is recorded with <paramref name="countCycle"/> false. Returns the batch
    /// ids that became dead in this call.
    /// </summary>
    public async Task<IReadOnlyList<string>> MarkFailedAsync(IReadOnlyList<OutboxRow> rows, int attempts, string error, bool countCycle, int maxSpoolRetries, CancellationToken cancellationToken)
    {
        ReleaseClaims(rows);
        var dead = new SortedSet<string>(StringComparer.Ordinal);
        await WriteAsync(async connection =>
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                UPDATE outbox SET attempts = attempts + @a, failed_cycles = failed_cycles + @c, last_error = @e, next_attempt_at = @now, updated_at = @now,
                    status = CASE WHEN status = 'pending' AND failed_cycles + @c >= @max THEN 'dead' ELSE status END
                WHERE id = @id AND content_hash = @h
                RETURNING status, batch_id
                """;
            command.AddWithValue("@a", attempts);
            command.AddWithValue("@c", countCycle ? 1 : 0);
            command.AddWithValue("@e", error);
            command.AddWithValue("@now", Now());
            command.AddWithValue("@max", Math.Max(1, maxSpoolRetries));
            var id = command.AddParameter("@id", DbType.Int64);
            var h = command.AddParameter("@h", DbType.String);
            foreach (var row in rows)
            {
                id.Value = row.Id;
                h.Value = row.ContentHash;
                using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && reader.GetString(0) == OutboxRow.Dead && row.Status != OutboxRow.Dead)
                {
                    dead.Add(reader.GetString(1));
                }
            }

            transaction.Commit();
        }, cancellationToken).ConfigureAwait(false);

        return dead.ToList();
    }

    /// <summary>
    /// Records a permanent rejection (HTTP 400/422 for exactly these rows): they become dead letters at
    /// once, with API_Meter's error, in their own batch (the original id + <see cref="RejectedSuffix"/>)
    /// so `spool resend`/`discard` act on the rejected keys only. Rows replaced by a newer total
    /// meanwhile are left alone. Returns the dead batch id, or null when nothing changed.
    /// </summary>
    public async Task<string?> MarkRejectedAsync(IReadOnlyList<OutboxRow> rows, int attempts, string error, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return null;
        }

        ReleaseClaims(rows);
        var batchId = rows[0].BatchId.EndsWith(RejectedSuffix, StringComparison.Ordinal) ? rows[0].BatchId : rows[0].BatchId + RejectedSuffix;
        var changed = 0;
        await WriteAsync(async connection =>
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                UPDATE outbox SET attempts = attempts + @a, last_error = @e, next_attempt_at = NULL, updated_at = @now, status = 'dead', batch_id = @b
                WHERE id = @id AND content_hash = @h
                """;
            command.AddWithValue("@a", attempts);
            command.AddWithValue("@e", error);
            command.AddWithValue("@now", Now());
            command.AddWithValue("@b", batchId);
            var id = command.AddParameter("@id", DbType.Int64);
            var h = command.AddParameter("@h", DbType.String);
            foreach (var row in rows)
            {
                id.Value = row.Id;
                h.Value = row.ContentHash;
                changed += await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            transaction.Commit();
        }, cancellationToken).ConfigureAwait(false);

        return changed > 0 ? batchId : null;
    }

    /// <summary>
    /// Puts every dead letter that is not an isolated rejection back to pending with no failed
    /// cycles (once, when upgrading from the policy that also dead-lettered outages). Returns the count.
    /// </summary>
    public async Task<int> ReviveDeadLettersAsync(CancellationToken cancellationToken) =>
        await WriteAsync(async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE outbox SET status = 'pending', failed_cycles = 0, updated_at = @now WHERE status = 'dead' AND batch_id NOT LIKE @suffix";
            command.AddWithValue("@now", Now());
            command.AddWithValue("@suffix", "%" + RejectedSuffix);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>The suffix of the batch that holds the keys API_Meter rejected out of a batch.</summary>
    public const string RejectedSuffix = "-rejected";

    /// <summary>Deletes a spooled batch (operator's `spool discard`). Returns the number of rows removed.</summary>
    public async Task<int> DiscardBatchAsync(string batchId, CancellationToken cancellationToken)
    {
        return await WriteAsync(async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM outbox WHERE batch_id = @b";
            command.AddWithValue("@b", batchId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A delivery-owned value of the kv table (keys are prefixed "delivery.").</summary>
    public async Task<string?> ReadDeliveryStateAsync(string key, CancellationToken cancellationToken)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM kv WHERE key = @k";
        command.AddWithValue("@k", "delivery." + key);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task WriteDeliveryStateAsync(string key, string value, CancellationToken cancellationToken)
    {
        await WriteAsync(async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO kv (key, value, updated_at) VALUES (@k, @v, @now) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";
            command.AddWithValue("@k", "delivery." + key);
            command.AddWithValue("@v", value);
            command.AddWithValue("@now", Now());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }
}
