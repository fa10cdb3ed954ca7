namespace Simulators.Dify;

/// <summary>How a price is written on the wire (docs/dify.md).</summary>
public enum SimPriceFormat
{
    /// <summary>Fixed point with 7 decimals (<c>format(d,"f")</c>): <c>"0.0000006"</c>.</summary>
    Fixed,

    /// <summary>Python <c>str(Decimal)</c>: an exponent below 1e-6 (<c>"6E-7"</c>, <c>"0E-7"</c>).</summary>
    Exponent,

    /// <summary>A JSON number (newer code paths that turn Decimals into floats).</summary>
    Number,

    /// <summary>Shortest fixed point without trailing zeros (<c>"0.00038"</c>, <c>"0"</c>).</summary>
    Trimmed,
}

/// <summary>One LLMUsage record (prompt/completion tokens and prices, 7-decimal money).</summary>
public sealed record SimUsage
{
    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }

    /// <summary>Unit price per <see cref="PriceUnit"/> tokens (USD).</summary>
    public decimal PromptUnitPrice { get; init; }

    public decimal CompletionUnitPrice { get; init; }

    public decimal PriceUnit { get; init; } = 0.000001m;

    public decimal PromptPrice { get; init; }

    public decimal CompletionPrice { get; init; }

    public decimal TotalPrice => PromptPrice + CompletionPrice;

    public int TotalTokens => PromptTokens + CompletionTokens;

    public SimPriceFormat PriceFormat { get; init; }

    public string Currency { get; init; } = "USD";

    /// <summary>Builds a usage record the way Dify prices it: tokens × unit price × unit, rounded half-up to 7 decimals.</summary>
    public static SimUsage Priced(int promptTokens, int completionTokens, SimModelRef? model, SimPriceFormat format = SimPriceFormat.Fixed)
    {
        var inUnit = model?.InputPricePerMillion ?? 0m;
        var outUnit = model?.OutputPricePerMillion ?? 0m;
        return new SimUsage
        {
            PromptTokens = promptTokens,
            CompletionTokens = completionTokens,
            PromptUnitPrice = inUnit,
            CompletionUnitPrice = outUnit,
            PromptPrice = Math.Round(promptTokens * inUnit * 0.000001m, 7, MidpointRounding.AwayFromZero),
            CompletionPrice = Math.Round(completionTokens * outUnit * 0.000001m, 7, MidpointRounding.AwayFromZero),
            PriceFormat = format,
        };
    }

    /// <summary>Sums usages (advanced-chat message usage = Σ node usage).</summary>
    public static SimUsage Sum(IEnumerable<SimUsage> parts, SimPriceFormat format = SimPriceFormat.Fixed)
    {
        int p = 0, c = 0;
        decimal pp = 0, cp = 0;
        SimUsage? last = null;
        foreach (var u in parts)
        {
            p += u.PromptTokens;
            c += u.CompletionTokens;
            pp += u.PromptPrice;
            cp += u.CompletionPrice;
            last = u;
        }

        return new SimUsage
        {
            PromptTokens = p,
            CompletionTokens = c,
            PromptPrice = pp,
            CompletionPrice = cp,
            PromptUnitPrice = last?.PromptUnitPrice ?? 0,
            CompletionUnitPrice = last?.CompletionUnitPrice ?? 0,
            PriceFormat = format,
        };
    }
}
