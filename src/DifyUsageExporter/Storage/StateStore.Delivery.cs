using System.Data;
using System.Globalization;

namespace DifyUsageExporter.Storage;

/// <summary>One key waiting in the spool (outbox).</summary>
public sealed record OutboxRow(
    long Id,
    string Target,
    string RecordKey,
    DateOnly UsageDate,
    string RecordJson,
    string ContentHash,
    string Status,
    string BatchId,
    int Attempts,
    int FailedCycles,
    DateTimeOffset? NextAttemptAt,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public const string Pending = "pending";
    public const string Dead = "dead";
}

/// <summary>A key's content to put in the spool.</summary>
public sealed record OutboxItem(string RecordKey, DateOnly UsageDate, string RecordJson, string ContentHash);

public sealed partial class StateStore
{
    /// <summary>The last acknowledged content hash per key of <paramref name="target"/> for days <paramref name="from"/>..<paramref name="to"/>.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ReadDeliveredHashesAsync(string target, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT record_key, content_hash FROM delivered_keys WHERE target = @t AND usage_date >= @from AND usage_date <= @to";
        command.AddWithValue("@t", target);
        command.AddWithValue("@from", Format(from));
        command.AddWithValue("@to", Format(to));
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result[reader.GetString(0)] = reader.GetString(1);
        }

        return result;
    }

    /// <summary>
    /// Writes items to the spool before they are sent. An item whose key already waits with the same
    /// content is left alone (unless <paramref name="force"/>), even a dead letter; otherwise the key's row is replaced
    /// (a newer total supersedes an older pending or dead one, counters reset) and put into a new
    /// batch of at most <paramref name="batchSize"/> rows. Returns the new batch ids.
    /// </summary>
    public async Task<IReadOnlyList<string>> EnqueueAsync(string target, IReadOnlyList<OutboxItem> items, int batchSize, bool force, CancellationToken cancellationToken)
    {
        var batches = new List<string>();
        if (items.Count == 0)
        {
            return batches;
        }

        await WriteAsync(async connection =>
        {
            using var transaction = connection.BeginTransaction();
            var now = Now();

            using var existing = connection.CreateCommand();
            existing.Transaction = transaction;
            existing.CommandText = "SELECT content_hash FROM outbox WHERE target = @t AND record_key = @k";
            existing.AddWithValue("@t", target);
            var existingKey = existing.AddParameter("@k", DbType.String);

            using var upsert = connection.CreateCommand();
            upsert.Transaction = transaction;
            upsert.CommandText = """
                INSERT INTO outbox (target, record_key, usage_date, record_json, content_hash, status, batch_id, attempts, failed_cycles, next_attempt_at, last_error, created_at, updated_at)
                VALUES (@t, @k, @d, @j, @h, 'pending', @b, 0, 0, @now, NULL, @now, @now)
                ON CONFLICT(target, record_key) DO UPDATE SET usage_date = excluded.usage_date, record_json = excluded.record_json,
                    content_hash = excluded.content_hash, status = 'pending', batch_id = excluded.batch_id, attempts = 0, failed_cycles = 0,
                    next_attempt_at = excluded.next_attempt_at, last_error = NULL, updated_at = excluded.updated_at
                """;
            upsert.AddWithValue("@t", target);
            upsert.AddWithValue("@now", now);
            var k = upsert.AddParameter("@k", DbType.String);
            var d = upsert.AddParameter("@d", DbType.String);
            var j = upsert.AddParameter("@j", DbType.String);
            var h = upsert.AddParameter("@h", DbType.String);
            var b = upsert.AddParameter("@b", DbType.String);

            var stamp = Time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture);
            var suffix = Guid.NewGuid().ToString("N")[..6];
            string? batch = null;
            var inBatch = 0;
            foreach (var item in items)
            {
                existingKey.Value = item.RecordKey;
                using (var reader = await existing.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    // Same content already waiting (pending, or dead until an operator acts): keep its batch.
                    if (!force && await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && reader.GetString(0) == item.ContentHash)
                    {
                        continue;
                    }
                }

                if (batch is null || inBatch >= batchSize)
                {
                    batch = $"{stamp}-{suffix}-{batches.Count + 1:D3}";
                    batches.Add(batch);
                    inBatch = 0;
                }

                k.Value = item.RecordKey;
                d.Value = Format(item.UsageDate);
                j.Value = item.RecordJson;
                h.Value = item.ContentHash;
                b.Value = batch;
                await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                inBatch++;
            }

            transaction.Commit();
        }, cancellationToken).ConfigureAwait(false);

        return batches;
    }

    /// <summary>Spool rows, optionally filtered by target, batch and status, ordered by batch then key.</summary>
    public async Task<IReadOnlyList<OutboxRow>> ReadOutboxAsync(string? target, string? batchId, string? status, CancellationToken cancellationToken)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, target, record_key, usage_date, record_json, content_hash, status, batch_id, attempts, failed_cycles,
                   next_attempt_at, last_error, created_at, updated_at
            FROM outbox WHERE (@t IS NULL OR target = @t) AND (@b IS NULL OR batch_id = @b) AND (@s IS NULL OR status = @s)
            ORDER BY batch_id, record_key
            """;
        command.AddWithValue("@t", (object?)target ?? DBNull.Value);
        command.AddWithValue("@b", (object?)batchId ?? DBNull.Value);
        command.AddWithValue("@s", (object?)status ?? DBNull.Value);
        var result = new List<OutboxRow>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new OutboxRow(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), ParseDate(reader.GetString(3)), reader.GetString(4), reader.GetString(5),
                reader.GetString(6), reader.GetString(7), reader.GetInt32(8), reader.GetInt32(9),
                reader.IsDBNull(10) ? null : ParseInstant(reader.GetString(10)), reader.IsDBNull(11) ? null : reader.GetString(11),
                ParseInstant(reader.GetString(12)), ParseInstant(reader.GetString(13))));
        }

        return result;
    }

    /// <summary>
    /// After a 2xx: records each row's hash as acknowledged and removes the row from the spool, unless
    /// a newer total replaced it meanwhile (then the newer row stays pending).
    /// </summary>
    public async Task MarkDeliveredAsync(IReadOnlyList<OutboxRow> rows, CancellationToken cancellationToken)
    {
        ReleaseClaims(rows);
        await WriteAsync(async connection =>
        {
            using var transaction = connection.BeginTransaction();
            var now = Now();
            using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM outbox WHERE id = @id AND content_hash = @h";
            var id = delete.AddParameter("@id", DbType.Int64);
            var h = delete.AddParameter("@h", DbType.String);
            using var ack = connection.CreateCommand();
            ack.Transaction = transaction;
            ack.CommandText = """
                INSERT INTO delivered_keys (target, record_key, usage_date, content_hash, delivered_at) VALUES (@t, @k, @d, @h, @now)
                ON CONFLICT(target, record_key) DO UPDATE SET usage_date = excluded.usage_date, content_hash = excluded.content_hash, delivered_at = excluded.delivered_at
                """;
            ack.AddWithValue("@now", now);
            var t = ack.AddParameter("@t", DbType.String);
            var k = ack.AddParameter("@k", DbType.String);
            var d = ack.AddParameter("@d", DbType.String);
            var ah = ack.AddParameter("@h", DbType.String);
            foreach (var row in rows)
            {
                id.Value = row.Id;
                h.Value = row.ContentHash;
                await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                t.Value = row.Target;
                k.Value = row.RecordKey;
                d.Value = Format(row.UsageDate);
                ah.Value = row.ContentHash;
                await ack.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            transaction.Commit();
        }, cancellationToken).ConfigureAwait(false);
    }
}
