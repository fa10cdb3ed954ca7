using System.Globalization;
using System.Text.Json.Nodes;

namespace Simulators.Dify;

/// <summary>How the model is written on the wire: prices, usage, users, timestamps.</summary>
internal static partial class Wire
{
    public static long Ts(DateTimeOffset t) => t.ToUnixTimeSeconds();

    public static JsonNode? Ts(DateTimeOffset? t) => t is { } v ? JsonValue.Create(v.ToUnixTimeSeconds()) : null;

    /// <summary>A 7-decimal price in the requested style (docs/dify.md).</summary>
    public static JsonNode Price(decimal value, SimPriceFormat format)
    {
        var q = Math.Round(value, 7, MidpointRounding.AwayFromZero);
        switch (format)
        {
            case SimPriceFormat.Number:
                return JsonValue.Create(q);
            case SimPriceFormat.Trimmed:
                return JsonValue.Create(q.ToString("0.#######", CultureInfo.InvariantCulture));
            case SimPriceFormat.Exponent:
                // Python str(Decimal) at exponent -7: scientific iff the adjusted exponent < -6, i.e. |coefficient| < 10.
                var coefficient = decimal.ToInt64(q * 10_000_000m);
                return JsonValue.Create(Math.Abs(coefficient) < 10
                    ? coefficient.ToString(CultureInfo.InvariantCulture) + "E-7"
                    : q.ToString("F7", CultureInfo.InvariantCulture));
            default:
                return JsonValue.Create(q.ToString("F7", CultureInfo.InvariantCulture));
        }
    }

    private static string Unit(decimal d) => d.ToString("0.##########", CultureInfo.InvariantCulture);

    /// <summary>An LLMUsage object.</summary>
    public static JsonObject Usage(SimUsage u) => new()
    {
        ["prompt_tokens"] = u.PromptTokens,
        ["prompt_unit_price"] = Unit(u.PromptUnitPrice),
        ["prompt_price_unit"] = Unit(u.PriceUnit),
        ["prompt_price"] = Price(u.PromptPrice, u.PriceFormat),
        ["completion_tokens"] = u.CompletionTokens,
        ["completion_unit_price"] = Unit(u.CompletionUnitPrice),
        ["completion_price_unit"] = Unit(u.PriceUnit),
        ["completion_price"] = Price(u.CompletionPrice, u.PriceFormat),
        ["total_tokens"] = u.TotalTokens,
        ["total_price"] = Price(u.TotalPrice, u.PriceFormat),
        ["currency"] = u.Currency,
        ["latency"] = 1.234,
        ["time_to_first_token"] = null,
        ["time_to_generate"] = null,
    };

    public static JsonObject? EndUser(SimEndUser? u) => u is null ? null : new JsonObject
    {
        ["id"] = u.Id.ToString(),
        ["type"] = u.Type,
        ["is_anonymous"] = u.IsAnonymous,
        ["session_id"] = u.SessionId,
    };

    public static JsonObject? Account(SimAccount? a) => a is null ? null : new JsonObject
    {
        ["id"] = a.Id.ToString(),
        ["name"] = a.Name,
        ["email"] = a.Email,
    };

    public static JsonObject Page(int page, int limit, int total, IEnumerable<JsonNode> items) => new()
    {
        ["page"] = page,
        ["limit"] = limit,
        ["total"] = total,
        ["has_more"] = total > page * limit,
        ["data"] = new JsonArray([.. items]),
    };
}
