using System.Data;
using System.Globalization;

namespace DifyUsageExporter.Storage;

public sealed partial class StateStore
{
    /// <summary>The rows of <c>PRAGMA integrity_check</c> (<paramref name="full"/>) or <c>quick_check</c> other than "ok".</summary>
    /// On PostgreSQL the server keeps its pages consistent and has no such check: empty (verify's logical checks still run).
    public IReadOnlyList<string> CheckIntegrity(bool full)
    {
        if (IsPostgres)
        {
            return [];
        }

        using var connection = OpenSqliteConnection();
        return StoreBackup.IntegrityCheck(connection, full);
    }

    /// <summary>The usage days whose ledger events retention removed.</summary>
    public async Task<IReadOnlySet<DateOnly>> ReadPrunedDaysAsync(CancellationToken cancellationToken)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT usage_date FROM ledger_pruned_days";
        var days = new HashSet<DateOnly>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            days.Add(ParseDate(reader.GetString(0)));
        }

        return days;
    }

    /// <summary>
    /// Deletes the ledger events of <paramref name="days"/> and records the days as pruned, in one
    /// transaction, skipping any day that has a spool row (pending or dead) of API_Meter, or that a
    /// spooled usage report (which may cover earlier days) could still need. Returns the events deleted per day.
    /// </summary>
    public async Task<IReadOnlyDictionary<DateOnly, long>> PruneLedgerDaysAsync(IReadOnlyCollection<DateOnly> days, CancellationToken cancellationToken)
    {
        var pruned = new Dictionary<DateOnly, long>();
        if (days.Count == 0)
        {
            return pruned;
        }

        await WriteAsync(async connection =>
        {
            using var transaction = connection.BeginTransaction();
            using var spooled = connection.CreateCommand();
            spooled.Transaction = transaction;
            spooled.CommandText = "SELECT count(*) FROM outbox WHERE usage_date = @d OR (target <> 'api_meter' AND usage_date >= @d)";
            var spooledDay = spooled.AddParameter("@d", DbType.String);
            using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM usage_events WHERE usage_date = @d";
            var deleteDay = delete.AddParameter("@d", DbType.String);
            using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = """
                INSERT INTO ledger_pruned_days (usage_date, events, pruned_at) VALUES (@d, @n, @now)
                ON CONFLICT(usage_date) DO UPDATE SET events = ledger_pruned_days.events + excluded.events, pruned_at = excluded.pruned_at
                """;
            var recordDay = record.AddParameter("@d", DbType.String);
            var recordCount = record.AddParameter("@n", DbType.Int64);
            record.AddWithValue("@now", Now());
            foreach (var day in days.Order())
            {
                spooledDay.Value = Format(day);
                if (Convert.ToInt64(await spooled.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0)
                {
                    continue;
                }

                deleteDay.Value = Format(day);
                var count = await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                recordDay.Value = Format(day);
                recordCount.Value = count;
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                pruned[day] = count;
            }

            transaction.Commit();
        }, cancellationToken).ConfigureAwait(false);
        return pruned;
    }

    /// <summary>True when the alert of <paramref name="day"/>, <paramref name="metric"/> and <paramref name="threshold"/> was already sent.</summary>
    public async Task<bool> CostAlertSentAsync(DateOnly day, string metric, decimal threshold, CancellationToken cancellationToken)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM cost_alerts WHERE usage_date = @d AND metric = @m AND threshold = @t";
        command.AddWithValue("@d", Format(day));
        command.AddWithValue("@m", metric);
        command.AddWithValue("@t", threshold.ToString(CultureInfo.InvariantCulture));
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>Remembers that the alert was sent (after the webhook accepted it).</summary>
    public async Task RecordCostAlertAsync(DateOnly day, string metric, decimal threshold, decimal total, CancellationToken cancellationToken)
    {
        await WriteAsync(async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO cost_alerts (usage_date, metric, threshold, total, sent_at) VALUES (@d, @m, @t, @total, @now) ON CONFLICT DO NOTHING";
            command.AddWithValue("@d", Format(day));
            command.AddWithValue("@m", metric);
            command.AddWithValue("@t", threshold.ToString(CultureInfo.InvariantCulture));
            command.AddWithValue("@total", total.ToString(CultureInfo.InvariantCulture));
            command.AddWithValue("@now", Now());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }
}
