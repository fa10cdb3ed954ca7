using System.Data;
using System.Data.Common;
using System.Globalization;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Storage;

/// <summary>What one refresh of the per-day totals re-read.</summary>
public sealed record TotalsRefresh(int Days, long Events);

public sealed partial class StateStore
{
    internal const string TotalsVersionKey = "ledger.daily_totals_version";
    private static readonly string[] TotalTextParameters = ["@d", "@p", "@m", "@cost", "@cur", "@other"];
    private static readonly string[] TotalIntegerParameters = ["@in", "@out", "@n"];

    /// <summary>
    /// Re-aggregates the usage days of <paramref name="from"/>..<paramref name="to"/> whose events
    /// changed since their totals were last computed (marked by the ledger's triggers), in one
    /// transaction: reads only those days' events, replaces their rows in daily_totals and clears
    /// their marks. Days outside the window stay marked until a window covers them.
    /// </summary>
    /// <param name="changed">Receives the days re-aggregated (their usage changed), e.g. for reconcile.</param>
    public async Task<TotalsRefresh> RefreshDailyTotalsAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken, ICollection<DateOnly>? changed = null)
    {
        return await WriteAsync(async connection =>
        {
            using var transaction = connection.BeginTransaction();
            await EnsureTotalsVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            var days = new List<string>();
            using (var dirty = connection.CreateCommand())
            {
                dirty.Transaction = transaction;
                dirty.CommandText = "SELECT usage_date FROM dirty_days WHERE usage_date >= @from AND usage_date <= @to ORDER BY usage_date";
                dirty.AddWithValue("@from", Format(from));
                dirty.AddWithValue("@to", Format(to));
                using var reader = await dirty.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    days.Add(reader.GetString(0));
                }
            }

            if (days.Count == 0)
            {
                transaction.Commit();
                return new TotalsRefresh(0, 0);
            }

            using var read = connection.CreateCommand();
            read.Transaction = transaction;
            read.CommandText = "SELECT provider, model, input_tokens, output_tokens, cost, currency FROM usage_events WHERE usage_date = @d";
            var readDay = read.AddParameter("@d", DbType.String);

            using var clear = connection.CreateCommand();
            clear.Transaction = transaction;
            clear.CommandText = "DELETE FROM daily_totals WHERE usage_date = @d; DELETE FROM dirty_days WHERE usage_date = @d;";
            var clearDay = clear.AddParameter("@d", DbType.String);

            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO daily_totals (usage_date, provider, model, input_tokens, output_tokens, request_count, cost, currency, other_currencies)
                VALUES (@d, @p, @m, @in, @out, @n, @cost, @cur, @other)
                """;
            var p = new Dictionary<string, DbParameter>(StringComparer.Ordinal);
            foreach (var name in TotalTextParameters)
            {
                p[name] = insert.AddParameter(name, DbType.String);
            }

            foreach (var name in TotalIntegerParameters)
            {
                p[name] = insert.AddParameter(name, DbType.Int64);
            }

            long events = 0;
            foreach (var day in days)
            {
                var date = ParseDate(day);
                var sums = new DailyAggregator.Accumulator();
                readDay.Value = day;
                using (var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        events++;
                        sums.Add(date, reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), ParseCost(reader.GetString(4)), reader.GetString(5));
                    }
                }

                clearDay.Value = day;
                await clear.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                foreach (var total in sums.Finish())
                {
                    p["@d"].Value = day;
                    p["@p"].Value = total.Key.Provider;
                    p["@m"].Value = total.Key.Model;
                    p["@in"].Value = total.InputTokens;
                    p["@out"].Value = total.OutputTokens;
                    p["@n"].Value = total.RequestCount;
                    p["@cost"].Value = total.Cost.ToString(CultureInfo.InvariantCulture);
                    p["@cur"].Value = total.Currency;
                    p["@other"].Value = System.Text.Json.JsonSerializer.Serialize(total.OtherCurrencies.ToArray(), LedgerJson.Default.StringArray);
                    await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            transaction.Commit();
            foreach (var day in days)
            {
                changed?.Add(ParseDate(day));
            }

            return new TotalsRefresh(days.Count, events);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The stored totals of days <paramref name="from"/>..<paramref name="to"/> for which
    /// <paramref name="include"/> holds, ordered by day, provider and model (ordinal), exactly as
    /// <see cref="DailyAggregator"/> returns them. Call <see cref="RefreshDailyTotalsAsync"/> first.
    /// </summary>
    public async Task<IReadOnlyList<DailyTotal>> ReadDailyTotalsAsync(DateOnly from, DateOnly to, Func<DateOnly, bool> include, CancellationToken cancellationToken)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT usage_date, provider, model, input_tokens, output_tokens, request_count, cost, currency, other_currencies
            FROM daily_totals WHERE usage_date >= @from AND usage_date <= @to
            """;
        command.AddWithValue("@from", Format(from));
        command.AddWithValue("@to", Format(to));
        var result = new List<DailyTotal>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var date = ParseDate(reader.GetString(0));
            if (!include(date))
            {
                continue;
            }

            var other = System.Text.Json.JsonSerializer.Deserialize(reader.GetString(8), LedgerJson.Default.StringArray) ?? [];
            result.Add(new DailyTotal(new DailyKey(date, reader.GetString(1), reader.GetString(2)), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), ParseCost(reader.GetString(6)), reader.GetString(7), other));
        }

        // Ordinal order in C#: SQLite's default collation is binary too, but the contract is the aggregator's order.
        return result.OrderBy(t => t.Key.UsageDate).ThenBy(t => t.Key.Provider, StringComparer.Ordinal).ThenBy(t => t.Key.Model, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Marks <paramref name="days"/> for re-aggregation (<c>verify --repair</c>): the next cycle whose
    /// window covers them re-sums their events and sends any key whose total changed. Idempotent.
    /// </summary>
    public async Task MarkDaysForReaggregationAsync(IEnumerable<DateOnly> days, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(days);
        var list = days.Select(Format).ToList();
        await WriteAsync(async connection =>
        {
            using var transaction = connection.BeginTransaction();
            using var mark = connection.CreateCommand();
            mark.Transaction = transaction;
            mark.CommandText = "INSERT INTO dirty_days (usage_date) VALUES (@d) ON CONFLICT DO NOTHING";
            var day = mark.AddParameter("@d", DbType.String);
            foreach (var value in list)
            {
                day.Value = value;
                await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            transaction.Commit();
        }, cancellationToken).ConfigureAwait(false);
    }

    internal static decimal ParseCost(string text) => decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>Stored totals made under other aggregation rules are stale: mark every day dirty once.</summary>
    private async Task EnsureTotalsVersionAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        var version = DailyAggregator.RulesVersion.ToString(CultureInfo.InvariantCulture);
        using var read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "SELECT value FROM kv WHERE key = @k";
        read.AddWithValue("@k", TotalsVersionKey);
        if (await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string == version)
        {
            return;
        }

        using var mark = connection.CreateCommand();
        mark.Transaction = transaction;
        mark.CommandText = """
            INSERT INTO dirty_days (usage_date) SELECT DISTINCT usage_date FROM usage_events WHERE true ON CONFLICT DO NOTHING;
            INSERT INTO dirty_days (usage_date) SELECT DISTINCT usage_date FROM daily_totals WHERE true ON CONFLICT DO NOTHING;
            INSERT INTO kv (key, value, updated_at) VALUES (@k, @v, @now) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;
            """;
        mark.AddWithValue("@k", TotalsVersionKey);
        mark.AddWithValue("@v", version);
        mark.AddWithValue("@now", Now());
        await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
