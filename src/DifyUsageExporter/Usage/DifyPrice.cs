using System.Globalization;
using System.Text.Json;

namespace DifyUsageExporter.Usage;

/// <summary>
/// Dify money values (usage-semantics.md §1): JSON strings with or without an exponent
/// (<c>"0.0003837"</c>, <c>"6E-7"</c>, <c>"0E-7"</c>), sometimes JSON numbers, sometimes null.
/// Always parsed invariantly into <see cref="decimal"/>; never through <see cref="double"/>.
/// </summary>
public static class DifyPrice
{
    /// <summary>Parses a price string; null, empty or unparsable → null.</summary>
    public static decimal? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return decimal.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    /// <summary>Parses a price from a JSON value (string or number); anything else → null.</summary>
    public static decimal? Parse(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => Parse(element.GetString()),
        // The raw text keeps the exact decimal digits the server wrote (no binary floating point).
        JsonValueKind.Number => Parse(element.GetRawText()),
        _ => null,
    };
}
