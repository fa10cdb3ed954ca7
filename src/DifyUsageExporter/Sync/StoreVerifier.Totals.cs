using System.Data.Common;
using System.Globalization;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Sync;

/// <summary>
/// The per-day totals check: the export cycle sends what <c>daily_totals</c> holds (kept up to date by
/// the ledger's triggers, docs/operations.md "Verify"), so a stored total that no longer matches its
/// events would be delivered silently wrong. Days marked dirty are re-summed by the next cycle and
/// are not judged; days retention pruned keep no events and are not judged either.
/// </summary>
public static partial class StoreVerifier
{
    private sealed record StoredDailyTotals(HashSet<DateOnly> Days, Dictionary<string, DailyTotal> Totals);

    /// <summary>The stored totals of every settled day, or null when the store predates them (an older backup) or their rules changed since.</summary>
    private static StoredDailyTotals? StoredTotals(DbConnection connection)
    {
        bool hasPruned;
        using (var probe = connection.CreateCommand())
        {
            // A backup file may predate these tables; the live PostgreSQL store is always migrated, but ask the same question there.
            probe.CommandText = connection is Microsoft.Data.Sqlite.SqliteConnection
                ? """
                SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('daily_totals', 'dirty_days')),
                       (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger_pruned_days')
                """
                : """
                SELECT (SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('daily_totals', 'dirty_days')),
                       (SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'ledger_pruned_days')
                """;
            using var reader = probe.ExecuteReader();
            reader.Read();
            if (reader.GetInt64(0) < 2)
            {
                return null;
            }

            hasPruned = reader.GetInt64(1) > 0;
        }

        using (var version = connection.CreateCommand())
        {
            // Totals made under other aggregation rules are all recomputed by the next refresh.
            version.CommandText = "SELECT value FROM kv WHERE key = @k";
            version.AddWithValue("@k", StateStore.TotalsVersionKey);
            var stored = version.ExecuteScalar() as string;
            if (stored != DailyAggregator.RulesVersion.ToString(CultureInfo.InvariantCulture))
            {
                return null;
            }
        }

        return Read(connection, hasPruned ? "SELECT usage_date FROM ledger_pruned_days" : "SELECT NULL WHERE 1 = 0");
    }

    private static StoredDailyTotals Read(DbConnection connection, string prunedSql)
    {
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT usage_date FROM dirty_days UNION " + prunedSql;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                if (!reader.IsDBNull(0))
                {
                    excluded.Add(reader.GetString(0));
                }
            }
        }

        var days = new HashSet<DateOnly>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT usage_date FROM daily_totals UNION SELECT usage_date FROM usage_events";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                if (!excluded.Contains(reader.GetString(0)))
                {
                    days.Add(StateStore.ParseDate(reader.GetString(0)));
                }
            }
        }

        var totals = new Dictionary<string, DailyTotal>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT usage_date, provider, model, input_tokens, output_tokens, request_count, cost, currency, other_currencies FROM daily_totals";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var day = StateStore.ParseDate(reader.GetString(0));
                if (!days.Contains(day))
                {
                    continue;
                }

                var other = System.Text.Json.JsonSerializer.Deserialize(reader.GetString(8), LedgerJson.Default.StringArray) ?? [];
                var total = new DailyTotal(new DailyKey(day, reader.GetString(1), reader.GetString(2)), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), StateStore.ParseCost(reader.GetString(6)), reader.GetString(7), other);
                totals[total.Key.ToString()] = total;
            }
        }

        return new StoredDailyTotals(days, totals);
    }

    /// <summary>Compares each settled day's stored totals with its events' aggregate; returns the days that differ.</summary>
    private static List<DateOnly> StaleTotals(StoredDailyTotals stored, Dictionary<string, DailyTotal> aggregated, List<string> violations)
    {
        var stale = new SortedSet<DateOnly>();
        var keys = stored.Totals.Keys.Concat(aggregated.Where(a => stored.Days.Contains(a.Value.Key.UsageDate)).Select(a => a.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            var have = stored.Totals.GetValueOrDefault(key);
            var want = aggregated.GetValueOrDefault(key);
            if (have is not null && want is not null && Same(have, want))
            {
                continue;
            }

            var day = (have ?? want)!.Key.UsageDate;
            stale.Add(day);
            violations.Add($"daily total {key}: stored {Describe(have)}, but the day's ledger events add up to {Describe(want)}; the next cycle would send the stored figure. Run `verify --repair` to re-sum the day at the next cycle");
        }

        return [.. stale];
    }

    private static bool Same(DailyTotal a, DailyTotal b) =>
        a.InputTokens == b.InputTokens && a.OutputTokens == b.OutputTokens && a.RequestCount == b.RequestCount
        && a.Cost == b.Cost && a.Currency == b.Currency && a.OtherCurrencies.SequenceEqual(b.OtherCurrencies, StringComparer.Ordinal);

    private static string Describe(DailyTotal? total) => total is null
        ? "nothing"
        : string.Create(CultureInfo.InvariantCulture, $"(input {total.InputTokens}, output {total.OutputTokens}, requests {total.RequestCount}, cost {total.Cost} {total.Currency})");
}
