using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DifyUsageExporter.Web;

/// <summary>Writes instants as UTC ISO-8601 with milliseconds (2026-03-01T00:30:00.000Z), like the logs.</summary>
internal sealed class UtcInstantJsonConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Iso.Instant(value));
}
