using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Metering;

/// <summary>
/// The API_Meter request body (docs/delivery.md), written by hand with
/// <see cref="Utf8JsonWriter"/> so that <c>cost_actual</c> is always a plain-decimal JSON number
/// (never <c>6E-7</c>) and a record's JSON is byte-stable (its hash decides whether it changed).
/// </summary>
public static class ApiMeterPayload
{
    public const string SourceSystem = "dify";

    /// <summary>The version sent as <c>exporter_version</c>: the assembly's informational version (without build metadata).</summary>
    public static string ExporterVersion { get; } = ReadVersion();

    /// <summary>
    /// Deterministic <c>metadata.source_event_id</c>: <c>dify-{date}-{provider}-{model}-{hash12}</c>,
    /// hash12 = first 12 hex of SHA-256("{date}|{provider}|{model}|{appId}|{userId}") as in the anchor
    /// (§5.3). Records span apps and users, so both are empty for API_Meter records.
    /// </summary>
    public static string SourceEventId(DateOnly usageDate, string provider, string model, string appId = "", string userId = "")
    {
        var date = Iso.Day(usageDate);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{date}|{provider}|{model}|{appId}|{userId}"));
        return $"dify-{date}-{provider}-{model}-{Convert.ToHexStringLower(hash)[..12]}";
    }

    /// <summary>Plain decimal notation, at most 7 decimals, no trailing zeros ("0.0000006", "0", "12.5").</summary>
    public static string FormatCost(decimal cost) =>
        DailyAggregator.RoundCost(cost).ToString("0.#######", CultureInfo.InvariantCulture);

    /// <summary>The JSON of one record (no whitespace, fixed field order).</summary>
    public static string RecordJson(DailyTotal total)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("usage_date", Iso.Day(total.Key.UsageDate));
            w.WriteString("provider", total.Key.Provider);
            w.WriteString("model", total.Key.Model);
            w.WriteNumber("input_tokens", total.InputTokens);
            w.WriteNumber("output_tokens", total.OutputTokens);
            w.WriteNumber("total_tokens", total.TotalTokens);
            w.WriteNumber("request_count", total.RequestCount);
            w.WritePropertyName("cost_actual");
            w.WriteRawValue(FormatCost(total.Cost), skipInputValidation: true);
            w.WriteString("currency", total.Currency);
            w.WriteStartObject("metadata");
            w.WriteString("source_system", SourceSystem);
            w.WriteString("source_event_id", SourceEventId(total.Key.UsageDate, total.Key.Provider, total.Key.Model));
            w.WriteString("aggregation_method", "daily_sum");
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>SHA-256 hex of a record's JSON: the content hash compared with the last acknowledged one.</summary>
    public static string ContentHash(string json) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));

    /// <summary>
    /// The whole request: tenant_id, export_metadata (date_range from the first day's 00:00:00.000Z
    /// to the last day's 23:59:59.999Z) and the given record JSONs in order.
    /// </summary>
    public static string BuildRequest(Guid tenantId, DateTimeOffset exportTimestamp, IReadOnlyList<(DateOnly UsageDate, string RecordJson)> records)
    {
        if (records.Count == 0)
        {
            throw new ArgumentException("An API_Meter request needs at least one record.", nameof(records));
        }

        var first = records.Min(r => r.UsageDate);
        var last = records.Max(r => r.UsageDate);
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("tenant_id", tenantId.ToString("D"));
            w.WriteStartObject("export_metadata");
            w.WriteString("exporter_version", ExporterVersion);
            w.WriteString("export_timestamp", Iso.Instant(exportTimestamp));
            w.WriteString("aggregation_period", "daily");
            w.WriteString("source_system", SourceSystem);
            w.WriteStartObject("date_range");
            w.WriteString("start", Iso.Day(first) + "T00:00:00.000Z");
            w.WriteString("end", Iso.Day(last) + "T23:59:59.999Z");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartArray("records");
            foreach (var (_, json) in records)
            {
                w.WriteRawValue(json, skipInputValidation: true);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string ReadVersion()
    {
        var assembly = typeof(ApiMeterPayload).Assembly;
        var informational = assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion;
        var version = informational ?? assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus >= 0 ? version[..plus] : version;
    }
}
