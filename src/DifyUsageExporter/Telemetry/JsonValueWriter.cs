using System.Globalization;
using System.Text.Json;

namespace DifyUsageExporter.Telemetry;

/// <summary>Writes a structured log value as JSON: numbers and booleans as such, key/value lists as objects, everything else as a masked string.</summary>
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
            case DateTimeOffset instant:
                json.WriteStringValue(Iso.Instant(instant));
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
