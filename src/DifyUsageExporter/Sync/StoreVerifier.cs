using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;
using Microsoft.Data.Sqlite;

namespace DifyUsageExporter.Sync;

/// <summary>What <see cref="StoreVerifier"/> found: violations (the store is wrong) and notes (a known, self-healing state).</summary>
public sealed record VerifyReport(bool Full, IReadOnlyList<string> Violations, IReadOnlyList<string> Notes, long Events, int DeliveredKeys, int SpoolRows)
{
    /// <summary>Usage days whose stored daily totals differ from their ledger events (<c>verify --repair</c> marks them for re-aggregation).</summary>
    public IReadOnlyList<DateOnly> StaleTotalDays { get; init; } = [];


    public bool Ok => Violations.Count == 0;
}

/// <summary>
/// <c>verify</c>: SQLite's own check (<c>PRAGMA integrity_check</c>, or <c>quick_check</c> for the
/// daemon's quick form) plus the store's invariants, all read in one snapshot (one read
/// transaction, so a cycle writing meanwhile cannot produce a false alarm):
/// every key delivered to API_Meter has the content the ledger aggregates to now, or it is in the
/// spool, or its day changed after the delivery and the next cycle sends it (a note, not a
/// violation), or retention pruned the day's events; no ledger event without its day row; no spool
/// row without a valid record; the per-day totals the cycle sends from equal their events' aggregate
/// for every day not marked for re-aggregation.
/// </summary>
public static partial class StoreVerifier
{
    /// <summary>Verifies the live store.</summary>
    public static VerifyReport Verify(StateStore store, bool full)
    {
        ArgumentNullException.ThrowIfNull(store);
        using var connection = store.OpenConnection();
        return Verify(connection, full);
    }

    /// <summary>Verifies a backup file without changing it (read-only; an older schema is fine).</summary>
    public static VerifyReport VerifyFile(string path, bool full)
    {
        StoreBackup.Inspect(path, full);
        using var connection = StoreBackup.Open(Path.GetFullPath(path), SqliteOpenMode.ReadOnly);
        return Verify(connection, full);
    }

    private static VerifyReport Verify(DbConnection connection, bool full)
    {
        // PostgreSQL keeps its pages consistent itself and has no integrity pragma: the logical checks below are verify there.
        var sqlite = connection as SqliteConnection;
        var violations = (sqlite is null ? new List<string>() : StoreBackup.IntegrityCheck(sqlite, full)).Select(p => $"SQLite {(full ? "integrity_check" : "quick_check")}: {p}").ToList();
        if (violations.Count > 0)
        {
            // A damaged file makes every further query unreliable; this is the finding.
            return new VerifyReport(full, violations, [], 0, 0, 0);
        }

        var notes = new List<string>();
        // One snapshot for every query (SQLite: a deferred read transaction that takes no write lock).
        using var snapshot = sqlite?.BeginTransaction(deferred: true) ?? connection.BeginTransaction(IsolationLevel.RepeatableRead);
        OrphanEvents(connection, violations);
        var spool = SpoolRows(connection, violations);
        var stored = StoredTotals(connection);
        var (events, delivered, totals) = DeliveredKeys(connection, spool, stored?.Days ?? [], violations, notes);
        var stale = stored is null ? [] : StaleTotals(stored, totals, violations);
        return new VerifyReport(full, violations, notes, events, delivered, spool.Count) { StaleTotalDays = stale };
    }

    private static void OrphanEvents(DbConnection connection, List<string> violations)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT e.usage_date, count(*) FROM usage_events e
            WHERE NOT EXISTS (SELECT 1 FROM day_extractions d WHERE d.usage_date = e.usage_date)
            GROUP BY e.usage_date ORDER BY e.usage_date
            """;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            violations.Add(string.Create(CultureInfo.InvariantCulture,
                $"ledger day {reader.GetString(0)}: {reader.GetInt64(1)} events but no day_extractions row (the day's completeness is unknown; re-extract it with `export --from {reader.GetString(0)} --to {reader.GetString(0)}`)"));
        }
    }

    /// <summary>Checks each spool row and returns the API_Meter keys waiting in it (pending or dead).</summary>
    private static HashSet<string> SpoolRows(DbConnection connection, List<string> violations)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT batch_id, target, record_key, usage_date, record_json, content_hash, status FROM outbox ORDER BY batch_id, record_key";
        using var reader = command.ExecuteReader();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            var (batch, target, key, day, json, hash, status) = (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6));
            var where = $"spool batch '{batch}' ({target}) key {key}";
            if (batch.Length == 0 || status is not (OutboxRow.Pending or OutboxRow.Dead))
            {
                violations.Add($"{where}: invalid batch id or status '{status}'");
            }

            var problem = RecordProblem(target, key, day, json);
            if (problem is not null)
            {
                violations.Add($"{where}: no valid record ({problem}); `spool discard {batch}` removes it, then `export` the day again");
            }
            else if (ApiMeterPayload.ContentHash(json) != hash)
            {
                violations.Add($"{where}: the stored content hash does not match the record");
            }

            if (target == DeliveryService.ApiMeterTarget)
            {
                keys.Add(key);
            }
        }

        return keys;
    }

    private static string? RecordProblem(string target, string key, string day, string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return "empty";
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            if (target != DeliveryService.ApiMeterTarget)
            {
                return null;
            }

            var root = document.RootElement;
            string Field(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "?";
            var recordKey = $"{Field("usage_date")}|{Field("provider")}|{Field("model")}";
            return recordKey == key && Field("usage_date") == day ? null : $"the record is for {recordKey}";
        }
        catch (JsonException ex)
        {
            return "not JSON: " + ex.Message;
        }
    }

    private static (long Events, int Delivered, Dictionary<string, DailyTotal> Totals) DeliveredKeys(DbConnection connection, HashSet<string> spooled, IReadOnlySet<DateOnly> alsoAggregate, List<string> violations, List<string> notes)
    {
        var delivered = new List<(string Key, DateOnly Day, string Hash, string DeliveredAt)>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT record_key, usage_date, content_hash, delivered_at FROM delivered_keys WHERE target = 'api_meter' ORDER BY usage_date, record_key";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                delivered.Add((reader.GetString(0), StateStore.ParseDate(reader.GetString(1)), reader.GetString(2), reader.GetString(3)));
            }
        }

        var extractions = new Dictionary<DateOnly, (bool Complete, string ExtractedAt)>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT usage_date, complete, extracted_at FROM day_extractions";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                extractions[StateStore.ParseDate(reader.GetString(0))] = (reader.GetInt64(1) == 1, reader.GetString(2));
            }
        }

        var pruned = new HashSet<DateOnly>();
        using (var command = connection.CreateCommand())
        {
            // A backup made before ledger retention existed has no such table (nothing was pruned).
            command.CommandText = connection is SqliteConnection
                ? "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger_pruned_days'"
                : "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'ledger_pruned_days'";
            var hasTable = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
            command.CommandText = hasTable ? "SELECT usage_date FROM ledger_pruned_days" : "SELECT NULL WHERE 1 = 0";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                pruned.Add(StateStore.ParseDate(reader.GetString(0)));
            }
        }

        var days = delivered.Select(d => d.Day).ToHashSet();
        long events = 0;
        // One pass over the ledger serves both checks: delivered keys and the stored per-day totals.
        var totals = DailyAggregator.Aggregate(LedgerEvents(connection, () => events++), d => days.Contains(d) || alsoAggregate.Contains(d)).ToDictionary(t => t.Key.ToString(), StringComparer.Ordinal);
        var daysWithEvents = totals.Values.Select(t => t.Key.UsageDate).ToHashSet();
        foreach (var (key, day, hash, deliveredAt) in delivered)
        {
            var total = totals.GetValueOrDefault(key) ?? new DailyTotal(ParseKey(key, day), 0, 0, 0, 0m, "USD", []);
            if (ApiMeterPayload.ContentHash(ApiMeterPayload.RecordJson(total)) == hash || spooled.Contains(key))
            {
                continue;
            }

            if (pruned.Contains(day) && !daysWithEvents.Contains(day))
            {
                continue;
            }

            var ledger = string.Create(CultureInfo.InvariantCulture, $"input {total.InputTokens}, output {total.OutputTokens}, requests {total.RequestCount}, cost {ApiMeterPayload.FormatCost(total.Cost)} {total.Currency}");
            if (extractions.TryGetValue(day, out var extraction) && (!extraction.Complete || string.CompareOrdinal(extraction.ExtractedAt, deliveredAt) > 0))
            {
                notes.Add($"key {key}: the ledger changed after the last delivery ({deliveredAt}); the next cycle covering {Day(day)} sends the new total ({ledger})");
                continue;
            }

            violations.Add($"delivered key {key}: the total last acknowledged by API_Meter ({deliveredAt}) differs from the ledger's aggregate ({ledger}) and nothing is pending; resend it with `export --from {Day(day)} --to {Day(day)} --force`");
        }

        return (events, delivered.Count, totals);
    }

    private static IEnumerable<UsageEvent> LedgerEvents(DbConnection connection, Action counted)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT usage_date, provider, model, input_tokens, output_tokens, cost, currency FROM usage_events";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            counted();
            yield return new UsageEvent
            {
                EventId = string.Empty,
                SourceId = string.Empty,
                AppId = string.Empty,
                AppName = string.Empty,
                AppMode = string.Empty,
                UserId = string.Empty,
                UserType = string.Empty,
                OccurredAt = default,
                UsageDate = StateStore.ParseDate(reader.GetString(0)),
                Provider = reader.GetString(1),
                Model = reader.GetString(2),
                InputTokens = reader.GetInt64(3),
                OutputTokens = reader.GetInt64(4),
                Cost = decimal.Parse(reader.GetString(5), NumberStyles.Float, CultureInfo.InvariantCulture),
                Currency = reader.GetString(6),
            };
        }
    }

    private static DailyKey ParseKey(string key, DateOnly day)
    {
        var parts = key.Split('|', 3);
        return parts.Length == 3 ? new DailyKey(day, parts[1], parts[2]) : new DailyKey(day, key, string.Empty);
    }

    private static string Day(DateOnly day) => Iso.Day(day);
}
