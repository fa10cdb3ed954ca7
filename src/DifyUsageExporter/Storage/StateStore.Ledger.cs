using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Storage;

public sealed partial class StateStore
{
    private static readonly string[] EventTextParameters = ["@id", "@src", "@app", "@appName", "@mode", "@user", "@userType", "@at", "@date", "@provider", "@model", "@cur", "@cost", "@now"];

    /// <summary>
    /// Replaces, per source (Dify message or workflow run), all stored events of that source by the
    /// given ones, in one transaction. An empty list deletes the source's events. Re-reading a
    /// source therefore never duplicates and a changed value replaces the old one.
    /// </summary>
    public async Task ReplaceSourcesAsync(IReadOnlyDictionary<string, IReadOnlyList<UsageEvent>> sources, CancellationToken cancellationToken)
    {
        if (sources.Count == 0)
        {
            return;
        }

        await WriteAsync(async connection =>
        {
            // Event ids and source ids are random UUIDs, so a batch dirties pages all over their
            // indexes; with SQLite's default 2 MiB page cache a large batch spills and writes the
            // same pages to the WAL again and again (13.6 write calls per event at 100k events,
            // 5.5 with this cache; benchmarks/history.md). PostgreSQL sizes its buffers server-side.
            if (!IsPostgres)
            {
                using var cache = connection.CreateCommand();
                cache.CommandText = "PRAGMA cache_size = -16384;";
                cache.ExecuteNonQuery();
            }

            using var transaction = connection.BeginTransaction();
            var now = Now();

            // One statement for the whole batch: event ids are unique across sources, so "a batch
            // source's events that no batch source keeps" is the union of the per-source deletes.
            using (var delete = connection.CreateCommand())
            {
                delete.Transaction = transaction;
                delete.CommandText = IsPostgres
                    ? "DELETE FROM usage_events WHERE source_id IN (SELECT json_array_elements_text(CAST(@sources AS json))) AND event_id NOT IN (SELECT json_array_elements_text(CAST(@keep AS json)))"
                    : "DELETE FROM usage_events WHERE source_id IN (SELECT value FROM json_each(@sources)) AND event_id NOT IN (SELECT value FROM json_each(@keep))";
                delete.AddWithValue("@sources", System.Text.Json.JsonSerializer.Serialize(sources.Keys.ToArray(), LedgerJson.Default.StringArray));
                delete.AddWithValue("@keep", System.Text.Json.JsonSerializer.Serialize(sources.Values.SelectMany(e => e).Select(e => e.EventId).ToArray(), LedgerJson.Default.StringArray));
                await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            using var upsert = connection.CreateCommand();
            upsert.Transaction = transaction;
            upsert.CommandText = """
                INSERT INTO usage_events (event_id, source_id, app_id, app_name, app_mode, user_id, user_type, occurred_at, usage_date,
                    provider, model, input_tokens, output_tokens, cost, currency, first_seen_at, updated_at)
                VALUES (@id, @src, @app, @appName, @mode, @user, @userType, @at, @date, @provider, @model, @in, @out, @cost, @cur, @now, @now)
                ON CONFLICT(event_id) DO UPDATE SET
                    source_id = excluded.source_id, app_id = excluded.app_id, app_name = excluded.app_name, app_mode = excluded.app_mode,
                    user_id = excluded.user_id, user_type = excluded.user_type, occurred_at = excluded.occurred_at, usage_date = excluded.usage_date,
                    provider = excluded.provider, model = excluded.model, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
                    cost = excluded.cost, currency = excluded.currency,
                    updated_at = CASE WHEN usage_events.input_tokens = excluded.input_tokens AND usage_events.output_tokens = excluded.output_tokens
                        AND usage_events.cost = excluded.cost AND usage_events.usage_date = excluded.usage_date
                        AND usage_events.provider = excluded.provider AND usage_events.model = excluded.model
                        THEN usage_events.updated_at ELSE excluded.updated_at END
                """;
            var p = new Dictionary<string, DbParameter>(StringComparer.Ordinal);
            foreach (var name in EventTextParameters)
            {
                p[name] = upsert.AddParameter(name, DbType.String);
            }

            p["@in"] = upsert.AddParameter("@in", DbType.Int64);
            p["@out"] = upsert.AddParameter("@out", DbType.Int64);
            p["@now"].Value = now;

            foreach (var (sourceId, events) in sources)
            {
                foreach (var e in events)
                {
                    p["@id"].Value = e.EventId;
                    p["@src"].Value = sourceId;
                    p["@app"].Value = e.AppId;
                    p["@appName"].Value = e.AppName;
                    p["@mode"].Value = e.AppMode;
                    p["@user"].Value = e.UserId;
                    p["@userType"].Value = e.UserType;
                    p["@at"].Value = Format(e.OccurredAt);
                    p["@date"].Value = Format(e.UsageDate);
                    p["@provider"].Value = e.Provider;
                    p["@model"].Value = e.Model;
                    p["@in"].Value = e.InputTokens;
                    p["@out"].Value = e.OutputTokens;
                    p["@cost"].Value = e.Cost.ToString(CultureInfo.InvariantCulture);
                    p["@cur"].Value = e.Currency;
                    await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            transaction.Commit();
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Streams the events of usage days <paramref name="from"/>..<paramref name="to"/> (inclusive), ordered by day and id.</summary>
    public async IAsyncEnumerable<UsageEvent> ReadEventsAsync(DateOnly from, DateOnly to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT event_id, source_id, app_id, app_name, app_mode, user_id, user_type, occurred_at, usage_date,
                   provider, model, input_tokens, output_tokens, cost, currency
            FROM usage_events WHERE usage_date >= @from AND usage_date <= @to ORDER BY usage_date, event_id
            """;
        command.AddWithValue("@from", Format(from));
        command.AddWithValue("@to", Format(to));
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new UsageEvent
            {
                EventId = reader.GetString(0),
                SourceId = reader.GetString(1),
                AppId = reader.GetString(2),
                AppName = reader.GetString(3),
                AppMode = reader.GetString(4),
                UserId = reader.GetString(5),
                UserType = reader.GetString(6),
                OccurredAt = ParseInstant(reader.GetString(7)),
                UsageDate = ParseDate(reader.GetString(8)),
                Provider = reader.GetString(9),
                Model = reader.GetString(10),
                InputTokens = reader.GetInt64(11),
                OutputTokens = reader.GetInt64(12),
                Cost = decimal.Parse(reader.GetString(13), NumberStyles.Float, CultureInfo.InvariantCulture),
                Currency = reader.GetString(14),
            };
        }
    }

    /// <summary>Records, for each day of an extraction, whether every app was read completely.</summary>
    public async Task RecordDayExtractionsAsync(IEnumerable<DayExtraction> days, CancellationToken cancellationToken)
    {
        await WriteAsync(async connection =>
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO day_extractions (usage_date, complete, incomplete_apps, time_zone, extracted_at) VALUES (@d, @c, @apps, @tz, @at)
                ON CONFLICT(usage_date) DO UPDATE SET complete = excluded.complete, incomplete_apps = excluded.incomplete_apps,
                    time_zone = excluded.time_zone, extracted_at = excluded.extracted_at
                """;
            var d = command.AddParameter("@d", DbType.String);
            var c = command.AddParameter("@c", DbType.Int64);
            var apps = command.AddParameter("@apps", DbType.String);
            var tz = command.AddParameter("@tz", DbType.String);
            var at = command.AddParameter("@at", DbType.String);
            foreach (var day in days)
            {
                d.Value = Format(day.UsageDate);
                c.Value = day.Complete ? 1 : 0;
                apps.Value = System.Text.Json.JsonSerializer.Serialize(day.IncompleteApps.ToArray(), LedgerJson.Default.StringArray);
                tz.Value = day.TimeZone;
                at.Value = Format(day.ExtractedAt);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            transaction.Commit();
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The recorded completeness of days <paramref name="from"/>..<paramref name="to"/>; days never extracted are absent.</summary>
    public async Task<IReadOnlyDictionary<DateOnly, DayExtraction>> ReadDayExtractionsAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT usage_date, complete, incomplete_apps, time_zone, extracted_at FROM day_extractions WHERE usage_date >= @from AND usage_date <= @to";
        command.AddWithValue("@from", Format(from));
        command.AddWithValue("@to", Format(to));
        var result = new Dictionary<DateOnly, DayExtraction>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var date = ParseDate(reader.GetString(0));
            var apps = System.Text.Json.JsonSerializer.Deserialize(reader.GetString(2), LedgerJson.Default.StringArray) ?? [];
            result[date] = new DayExtraction(date, reader.GetInt64(1) == 1, apps, reader.GetString(3), ParseInstant(reader.GetString(4)));
        }

        return result;
    }

    /// <summary>All per-app watermarks.</summary>
    public async Task<IReadOnlyList<AppWatermark>> ReadWatermarksAsync(CancellationToken cancellationToken)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT app_id, app_name, watermark, updated_at FROM app_watermarks ORDER BY app_name, app_id";
        var result = new List<AppWatermark>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new AppWatermark(reader.GetString(0), reader.GetString(1), ParseInstant(reader.GetString(2)), ParseInstant(reader.GetString(3))));
        }

        return result;
    }

    /// <summary>Sets an app's watermark. Call only after everything it covers is stored.</summary>
    public async Task SetWatermarkAsync(string appId, string appName, DateTimeOffset watermark, CancellationToken cancellationToken)
    {
        await WriteAsync(async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO app_watermarks (app_id, app_name, watermark, updated_at) VALUES (@id, @name, @w, @now)
                ON CONFLICT(app_id) DO UPDATE SET app_name = excluded.app_name, watermark = excluded.watermark, updated_at = excluded.updated_at
                """;
            command.AddWithValue("@id", appId);
            command.AddWithValue("@name", appName);
            command.AddWithValue("@w", Format(watermark));
            command.AddWithValue("@now", Now());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves watermarks back to <paramref name="watermark"/> (only those currently later), for one app
    /// or all (<paramref name="appId"/> null). Returns the number of apps changed.
    /// </summary>
    public async Task<int> ResetWatermarksAsync(string? appId, DateTimeOffset watermark, CancellationToken cancellationToken)
    {
        return await WriteAsync(async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE app_watermarks SET watermark = @w, updated_at = @now WHERE (@id IS NULL OR app_id = @id) AND watermark > @w";
            command.AddWithValue("@w", Format(watermark));
            command.AddWithValue("@now", Now());
            command.AddWithValue("@id", (object?)appId ?? DBNull.Value);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class LedgerJson : System.Text.Json.Serialization.JsonSerializerContext;
