namespace DifyUsageExporter.Usage;

/// <summary>The API_Meter key (usage-semantics.md §3): usage day, normalised provider, normalised model.</summary>
public readonly record struct DailyKey(DateOnly UsageDate, string Provider, string Model)
{
    /// <summary>Stable text form used as the spool and delivered-key identity.</summary>
    public override string ToString() => $"{Iso.Day(UsageDate)}|{Provider}|{Model}";

    /// <summary>The key of a <see cref="ToString"/> text, or null when it is not one.</summary>
    public static DailyKey? TryParse(string text)
    {
        var parts = text.Split('|', 3);
        return parts.Length == 3 && Iso.TryParseDay(parts[0]) is { } day ? new DailyKey(day, parts[1], parts[2]) : null;
    }
}

/// <summary>A day's complete totals for one key. <see cref="Cost"/> is already rounded to 7 decimals.</summary>
public sealed record DailyTotal(
    DailyKey Key,
    long InputTokens,
    long OutputTokens,
    long RequestCount,
    decimal Cost,
    string Currency,
    IReadOnlyList<string> OtherCurrencies)
{
    public long TotalTokens => InputTokens + OutputTokens;
}

/// <summary>
/// Pure aggregation of usage events into daily per-key totals (usage-semantics.md §3). The cost
/// is summed exactly and rounded once, half away from zero, to 7 decimals.
/// </summary>
public static class DailyAggregator
{
    public const int CostDecimals = 7;

    /// <summary>
    /// Version of the normalisation and summing rules. The ledger keeps per-day totals computed with
    /// these rules (StateStore.RefreshDailyTotalsAsync); bump it whenever ProviderModelNormalizer or
    /// this class changes what a key or a sum is, and every stored day is re-aggregated once.
    /// </summary>
    public const int RulesVersion = 1;

    public static decimal RoundCost(decimal cost) => Math.Round(cost, CostDecimals, MidpointRounding.AwayFromZero);

    /// <summary>Aggregates a stream of events (any order); only events whose day is in <paramref name="days"/> (null = all) count.</summary>
    public static async Task<IReadOnlyList<DailyTotal>> AggregateAsync(IAsyncEnumerable<UsageEvent> events, Func<DateOnly, bool>? days, CancellationToken cancellationToken)
    {
        var sums = new Accumulator();
        await foreach (var e in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (days is null || days(e.UsageDate))
            {
                sums.Add(e.UsageDate, e.Provider, e.Model, e.InputTokens, e.OutputTokens, e.Cost, e.Currency);
            }
        }

        return sums.Finish();
    }

    /// <summary>Synchronous variant for in-memory event lists.</summary>
    public static IReadOnlyList<DailyTotal> Aggregate(IEnumerable<UsageEvent> events, Func<DateOnly, bool>? days = null)
    {
        var sums = new Accumulator();
        foreach (var e in events)
        {
            if (days is null || days(e.UsageDate))
            {
                sums.Add(e.UsageDate, e.Provider, e.Model, e.InputTokens, e.OutputTokens, e.Cost, e.Currency);
            }
        }

        return sums.Finish();
    }

    /// <summary>
    /// The per-key sums of any number of events (raw provider/model, normalised here). Used for a
    /// whole window and, by the ledger's incremental totals, for one changed day at a time.
    /// </summary>
    public sealed class Accumulator
    {
        private readonly Dictionary<DailyKey, Sum> sums = [];

        public void Add(DateOnly usageDate, string provider, string model, long inputTokens, long outputTokens, decimal cost, string currency)
        {
            var key = new DailyKey(usageDate, ProviderModelNormalizer.NormalizeProvider(provider), ProviderModelNormalizer.NormalizeModel(model));
            if (!sums.TryGetValue(key, out var sum))
            {
                sum = new Sum();
                sums[key] = sum;
            }

            sum.Input += inputTokens;
            sum.Output += outputTokens;
            sum.Count++;
            sum.Cost += cost;
            var code = string.IsNullOrWhiteSpace(currency) ? "USD" : currency.Trim().ToUpperInvariant();
            sum.Currencies.TryAdd(code, 0);
            sum.Currencies[code]++;
        }

        /// <summary>The totals ordered by day, provider, model (ordinal); the cost rounded once per key.</summary>
        public IReadOnlyList<DailyTotal> Finish() =>
            sums.OrderBy(kv => kv.Key.UsageDate).ThenBy(kv => kv.Key.Provider, StringComparer.Ordinal).ThenBy(kv => kv.Key.Model, StringComparer.Ordinal)
                .Select(kv =>
                {
                    // The most frequent currency names the total; others are reported, never dropped silently.
                    var ordered = kv.Value.Currencies.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key).ToList();
                    return new DailyTotal(kv.Key, kv.Value.Input, kv.Value.Output, kv.Value.Count, RoundCost(kv.Value.Cost), ordered[0], ordered.Skip(1).ToList());
                })
                .ToList();
    }

    private sealed class Sum
    {
        public long Input;
        public long Output;
        public long Count;
        public decimal Cost;
        public Dictionary<string, int> Currencies { get; } = new(StringComparer.Ordinal);
    }
}
