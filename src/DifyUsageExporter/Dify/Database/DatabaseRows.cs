using System.Globalization;
using System.Text.Json;
using Npgsql;

namespace DifyUsageExporter.Dify.Database;

/// <summary>A JSON text column of one row that does not parse: names the table, the row id and the column.</summary>
internal sealed class RowJsonException(string table, string rowId, string column, string detail)
    : JsonException($"{table} row {rowId}: {column} is not valid JSON ({detail})");

/// <summary>The text of one node execution row, parsed only when its run is mapped.</summary>
internal sealed record NodeRow(string Id, string? NodeId, string? NodeType, string? ProcessData, string? Outputs, string? ExecutionMetadata);

/// <summary>Conversions of Dify's column values into the console's wire shapes, so the console's mapping rules apply unchanged.</summary>
internal static class DatabaseRows
{
    /// <summary>
    /// Dify stores naive UTC timestamps (<c>timestamp without time zone</c>); the console API serialises them as
    /// whole Unix seconds. Truncating the same way keeps each event's <c>occurred_at</c> identical to the console
    /// source's (a whole-second truncation never moves an instant across a midnight).
    /// </summary>
    public static DateTimeOffset Instant(DateTime value)
    {
        var utc = DateTime.SpecifyKind(value, DateTimeKind.Utc);
        return new DateTimeOffset(utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerSecond)));
    }

    /// <summary>A naive-UTC timestamp parameter for comparisons with Dify's columns.</summary>
    public static NpgsqlParameter Timestamp(string name, DateTimeOffset value) =>
        new(name, NpgsqlTypes.NpgsqlDbType.Timestamp) { Value = DateTime.SpecifyKind(value.UtcDateTime, DateTimeKind.Unspecified) };

    public static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    /// <summary>A JSON text column: absent (null/empty) = undefined; unparseable = <see cref="RowJsonException"/>.</summary>
    public static JsonElement Json(string? text, string table, string rowId, string column)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return default;
        }

        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new RowJsonException(table, rowId, column, ex.Message);
        }
    }

    public static JsonElement Number(long value) => JsonSerializer.SerializeToElement(value, DifyJson.Default.Int64);

    public static JsonElement Price(decimal? value) =>
        value is { } d ? JsonSerializer.SerializeToElement(d.ToString(CultureInfo.InvariantCulture), DifyJson.Default.String) : default;

    public static DifyNodeExecution Node(NodeRow row) => new()
    {
        Id = row.Id,
        NodeId = row.NodeId,
        NodeType = row.NodeType,
        ProcessData = Json(row.ProcessData, "workflow_node_executions", row.Id, "process_data"),
        Outputs = Json(row.Outputs, "workflow_node_executions", row.Id, "outputs"),
        ExecutionMetadata = Json(row.ExecutionMetadata, "workflow_node_executions", row.Id, "execution_metadata"),
    };

    /// <summary>created_by_role/created_by of a run → the console's user (end_user or account).</summary>
    public static (string Id, string Type) Creator(string? role, string? id) => role switch
    {
        "end_user" when !string.IsNullOrEmpty(id) => (id, "end_user"),
        "account" when !string.IsNullOrEmpty(id) => (id, "account"),
        _ => (DifyUsageMapper.Unknown, DifyUsageMapper.Unknown),
    };
}
