using System.Globalization;
using System.Text.Json;

namespace DifyUsageExporter.Metering;

/// <summary>
/// What a 2xx body of API_Meter says. The documented answer (ADR 019 in the exporter this replaces,
/// docs/delivery.md) is <c>{"success":true,"processed_records":N,"inserted":i,"updated":u}</c>, with
/// <c>total</c> logged by that exporter too. Parsed defensively: any field may be missing.
/// </summary>
public sealed record ApiMeterAnswer(bool IsJsonObject, bool? Success, long? ProcessedRecords, long? Inserted, long? Updated, long? Total)
{
    public static ApiMeterAnswer Parse(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new ApiMeterAnswer(false, null, null, null, null, null);
            }

            bool? success = root.TryGetProperty("success", out var s) && s.ValueKind is JsonValueKind.True or JsonValueKind.False ? s.GetBoolean() : null;
            return new ApiMeterAnswer(true, success, Read(root, "processed_records"), Read(root, "inserted"), Read(root, "updated"), Read(root, "total"));
        }
        catch (JsonException)
        {
            return new ApiMeterAnswer(false, null, null, null, null, null);
        }
    }

    /// <summary>
    /// True when the body confirms that all <paramref name="sent"/> records were stored:
    /// <c>success: true</c> and one of <c>processed_records</c>, <c>total</c>, <c>inserted + updated</c> equal to it.
    /// </summary>
    public bool Confirms(int sent) => Success == true && Counts().Any(c => c == sent);

    /// <summary>Why the body does not confirm <paramref name="sent"/> records (for the error and the log).</summary>
    public string Explain(int sent)
    {
        if (!IsJsonObject)
        {
            return "the body is not a JSON object";
        }

        if (Success != true)
        {
            return Success is null ? "no \"success\": true in the body" : "\"success\": false";
        }

        var counts = Counts().ToList();
        return counts.Count == 0
            ? "no record count (processed_records, total or inserted+updated) in the body"
            : string.Create(CultureInfo.InvariantCulture, $"the body counts {string.Join("/", counts.Distinct())} records, {sent} were sent");
    }

    private IEnumerable<long> Counts()
    {
        if (ProcessedRecords is { } p)
        {
            yield return p;
        }

        if (Total is { } t)
        {
            yield return t;
        }

        if (Inserted is { } i && Updated is { } u)
        {
            yield return i + u;
        }
    }

    private static long? Read(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
}
