using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Simulators.Meter;

/// <summary>A validated record ready for the UPSERT.</summary>
public sealed record MeterRecord(string UsageDate, string Provider, string Model, long Input, long Output, long Total, long RequestCount, decimal Cost, string Currency, string SourceEventId);

/// <summary>
/// Strict validation of the API_Meter request (docs/delivery.md; the receiver's request schema), plus the
/// server's own rules: at most 500 records, total_tokens = input + output, cost_actual a plain
/// decimal number ≥ 0 with at most 7 decimals, no key twice in one request. A problem names its field.
/// </summary>
public static partial class MeterValidator
{
    public const int MaxRecords = 500;

    public static (string TenantId, IReadOnlyList<MeterRecord> Records)? Validate(string body, out string? field, out string? problem)
    {
        field = null;
        problem = null;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            (field, problem) = ("body", "invalid JSON: " + ex.Message);
            return null;
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                (field, problem) = ("body", "must be an object");
                return null;
            }

            if (!TryString(root, "tenant_id", out var tenant) || !Guid.TryParse(tenant, out _))
            {
                (field, problem) = ("tenant_id", "must be a UUID");
                return null;
            }

            if (!root.TryGetProperty("export_metadata", out var meta) || meta.ValueKind != JsonValueKind.Object)
            {
                (field, problem) = ("export_metadata", "required object");
                return null;
            }

            if (!TryString(meta, "exporter_version", out var version) || version.Length == 0)
            {
                (field, problem) = ("export_metadata.exporter_version", "required string");
                return null;
            }

            if (!TryString(meta, "export_timestamp", out var ts) || !IsUtcDateTime(ts))
            {
                (field, problem) = ("export_metadata.export_timestamp", "must be an ISO date-time in UTC (Z)");
                return null;
            }

            if (!TryString(meta, "aggregation_period", out var period) || period is not ("daily" or "weekly" or "monthly"))
            {
                (field, problem) = ("export_metadata.aggregation_period", "must be daily, weekly or monthly");
                return null;
            }

            if (!TryString(meta, "source_system", out var system) || system != "dify")
            {
                (field, problem) = ("export_metadata.source_system", "must be \"dify\"");
                return null;
            }

            if (!meta.TryGetProperty("date_range", out var range) || range.ValueKind != JsonValueKind.Object
                || !TryString(range, "start", out var start) || !IsUtcDateTime(start) || !TryString(range, "end", out var end) || !IsUtcDateTime(end))
            {
                (field, problem) = ("export_metadata.date_range", "must hold start and end ISO date-times in UTC (Z)");
                return null;
            }

            if (!root.TryGetProperty("records", out var records) || records.ValueKind != JsonValueKind.Array)
            {
                (field, problem) = ("records", "required array");
                return null;
            }

            var count = records.GetArrayLength();
            if (count < 1 || count > MaxRecords)
            {
                (field, problem) = ("records", $"must hold 1 to {MaxRecords} records (got {count})");
                return null;
            }

            var result = new List<MeterRecord>(count);
            var keys = new HashSet<(string, string, string)>();
            var i = 0;
            foreach (var r in records.EnumerateArray())
            {
                var p = $"records[{i}]";
                var record = ValidateRecord(r, p, out field, out problem);
                if (record is null)
                {
                    return null;
                }

                if (!keys.Add((record.UsageDate, record.Provider, record.Model)))
                {
                    (field, problem) = (p, $"duplicate key ({record.UsageDate}, {record.Provider}, {record.Model}) in one request");
                    return null;
                }

                result.Add(record);
                i++;
            }

            return (tenant, result);
        }
    }

    private static MeterRecord? ValidateRecord(JsonElement r, string p, out string? field, out string? problem)
    {
        field = null;
        problem = null;
        if (r.ValueKind != JsonValueKind.Object)
        {
            (field, problem) = (p, "must be an object");
            return null;
        }

        if (!TryString(r, "usage_date", out var date) || !DateRegex().IsMatch(date)
            || !DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            (field, problem) = (p + ".usage_date", "must be YYYY-MM-DD");
            return null;
        }

        if (!TryString(r, "provider", out var provider) || provider.Length == 0)
        {
            (field, problem) = (p + ".provider", "required non-empty string");
            return null;
        }

        if (!TryString(r, "model", out var model) || model.Length == 0)
        {
            (field, problem) = (p + ".model", "required non-empty string");
            return null;
        }

        long input = 0, output = 0, total = 0, requests = 0;
        foreach (var (name, set) in new (string, Action<long>)[] { ("input_tokens", v => input = v), ("output_tokens", v => output = v), ("total_tokens", v => total = v), ("request_count", v => requests = v) })
        {
            if (!r.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n) || n < 0)
            {
                (field, problem) = ($"{p}.{name}", "must be an integer ≥ 0");
                return null;
            }

            set(n);
        }

        if (total != input + output)
        {
            (field, problem) = (p + ".total_tokens", $"must equal input_tokens + output_tokens ({input} + {output})");
            return null;
        }

        if (!r.TryGetProperty("cost_actual", out var costElement) || costElement.ValueKind != JsonValueKind.Number)
        {
            (field, problem) = (p + ".cost_actual", "must be a number");
            return null;
        }

        var raw = costElement.GetRawText();
        var dot = raw.IndexOf('.', StringComparison.Ordinal);
        if (raw.Contains('e', StringComparison.OrdinalIgnoreCase) || (dot >= 0 && raw.Length - dot - 1 > 7)
            || !decimal.TryParse(raw, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var cost) || cost < 0)
        {
            (field, problem) = (p + ".cost_actual", $"must be a plain decimal number ≥ 0 with at most 7 decimals (got {raw})");
            return null;
        }

        if (!TryString(r, "currency", out var currency) || currency.Length == 0)
        {
            (field, problem) = (p + ".currency", "required non-empty string");
            return null;
        }

        if (!r.TryGetProperty("metadata", out var meta) || meta.ValueKind != JsonValueKind.Object)
        {
            (field, problem) = (p + ".metadata", "required object");
            return null;
        }

        if (!TryString(meta, "source_system", out var system) || system != "dify")
        {
            (field, problem) = (p + ".metadata.source_system", "must be \"dify\"");
            return null;
        }

        if (!TryString(meta, "source_event_id", out var eventId) || eventId.Length == 0)
        {
            (field, problem) = (p + ".metadata.source_event_id", "required non-empty string");
            return null;
        }

        foreach (var optional in new[] { "source_app_id", "source_app_name", "aggregation_method" })
        {
            if (meta.TryGetProperty(optional, out var v) && v.ValueKind != JsonValueKind.String)
            {
                (field, problem) = ($"{p}.metadata.{optional}", "must be a string when present");
                return null;
            }
        }

        return new MeterRecord(date, provider, model, input, output, total, requests, cost, currency, eventId);
    }

    private static bool TryString(JsonElement obj, string name, out string value)
    {
        if (obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String)
        {
            value = v.GetString()!;
            return true;
        }

        value = string.Empty;
        return false;
    }

    private static bool IsUtcDateTime(string text) =>
        text.EndsWith('Z') && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}$")]
    private static partial Regex DateRegex();
}
