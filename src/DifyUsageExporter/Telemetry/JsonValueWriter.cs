using System.Globalization;
using System.Text.Json;

namespace DifyUsageExporter.Telemetry;

/// <summary>
/// Writes a structured log value as JSON: numbers and booleans as such, days as <c>yyyy-MM-dd</c>,
/// instants as ISO 8601 UTC, key/value lists as objects, everything else as a masked string, all
/// independent of the process culture (a default <c>ToString</c> would write a DateOnly as
/// <c>03/01/2026</c>, or in another calendar under a non-invariant culture).
/// </summary>
internal static class JsonValueWriter
{
    public static void Write(Utf8JsonWriter json, object? value, LogMasker masker)
    {
        switch (value)
        {
            case null:
                json.WriteNullValue();
                break;
            case bool b:
                json.WriteBooleanValue(b);
                break;
            case int or long or short or byte or uint or ulong or ushort:
                json.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case decimal m:
                json.WriteNumberValue(m);
                break;
            case double d when double.IsFinite(d):
                json.WriteNumberValue(d);
                break;
            case float f when float.IsFinite(f):
                json.WriteNumberValue(f);
                break;
            case DateOnly day:
                json.WriteStringValue(Iso.Day(day));
                break;
            case DateTimeOffset instant:
                json.WriteStringValue(Iso.Instant(instant));
                break;
            case DateTime moment:
                // Dify's naive timestamps are UTC; a local DateTime is converted.
                json.WriteStringValue(Iso.Instant(new DateTimeOffset(moment.Kind == DateTimeKind.Local ? moment.ToUniversalTime() : DateTime.SpecifyKind(moment, DateTimeKind.Utc))));
                break;
            case TimeOnly clock:
                json.WriteStringValue(clock.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture));
                break;
            case TimeSpan span:
                json.WriteNumberValue(Math.Round(span.TotalSeconds, 3));
                break;
            case IEnumerable<KeyValuePair<string, string>> pairs:
                json.WriteStartObject();
                foreach (var (key, item) in pairs)
                {
                    json.WriteString(key, masker.Apply(item));
                }

                json.WriteEndObject();
                break;
            default:
                json.WriteStringValue(masker.Apply(Convert.ToString(value, CultureInfo.InvariantCulture)));
                break;
        }
    }
}
