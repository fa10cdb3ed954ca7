using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DifyUsageExporter.Dify;

/// <summary>
/// Token counts of the console API (<c>message_tokens</c>, <c>answer_tokens</c>, <c>total_tokens</c>)
/// read straight into a number, by the rule of <see cref="DifyUsageMapper.ToLong"/>: an integer, a
/// fractional number rounded, an integer string; anything else (null, other strings, objects) is
/// null, so one odd value never fails a whole page. A <see cref="JsonElement"/> property would build
/// a <see cref="JsonDocument"/> per value, per message and per run: about a tenth of the exporter's
/// CPU went into those documents and the garbage they leave (benchmarks/history.md, issue 12).
/// </summary>
internal sealed class LenientInt64Converter : JsonConverter<long?>
{
    public override bool HandleNull => true;

    public override long? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                return reader.TryGetInt64(out var l) ? l : (long)Math.Round(reader.GetDouble());
            case JsonTokenType.String:
                return long.TryParse(reader.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : null;
            default:
                reader.Skip();
                return null;
        }
    }

    public override void Write(Utf8JsonWriter writer, long? value, JsonSerializerOptions options)
    {
        if (value is { } v)
        {
            writer.WriteNumberValue(v);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
