namespace DifyUsageExporter.Usage;

/// <summary>The API_Meter key (usage-semantics.md §3): usage day, normalised provider, normalised model.</summary>
public readonly record struct DailyKey(DateOnly UsageDate, string Provider, string Model)
{
    /// <summary>Stable text form used as the spool and delivered-key identity.</summary>
    public override string ToString() => $"{UsageDate:yyyy-MM-dd}|{Provider}|{Model}";
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

    public static decimal RoundCost(decimal cost) => Math.Round(cost, CostDecimals, MidpointRounding.AwayFromZero);

    /// <summary>Aggregates a stream of events (any order); only events whose day is in <paramref name="days"/> (null = all) count.</summary>
    public static async Task<IReadOnlyList<DailyTotal>> AggregateAsync(IAsyncEnumerable<UsageEvent> events, Func<DateOnly, bool>? days, CancellationToken cancellationToken)
    {
        var sums = new Dictionary<DailyKey, Sum>();
        await foreach (var e in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            Add(sums, e, days);
        }

        return Finish(sums);
    }

    /// <summary>Synchronous variant for in-memory event lists.</summary>
    public static IReadOnlyList<DailyTotal> Aggregate(IEnumerable<UsageEvent> events, Func<DateOnly, bool>? days = null)
    {
        var sums = new Dictionary<DailyKey, Sum>();
        foreach (var e in events)
        {
            Add(sums, e, days);
        }

        return Finish(sums);
    }

    private static void Add(Dictionary<DailyKey, Sum> sums, UsageEvent e, Func<DateOnly, bool>? days)
    {
        if (days is not null && !days(e.UsageDate))
        {
            return;
        }

        var key = new DailyKey(e.UsageDate, ProviderModelNormalizer.NormalizeProvider(e.Provider), ProviderModelNormalizer.NormalizeModel(e.Model));
        if (!sums.TryGetValue(key, out var sum))
        {
            sum = new Sum();
            sums[key] = sum;
        }

        sum.Input += e.InputTokens;
        sum.Output += e.OutputTokens;
        sum.Count++;
        sum.Cost += e.Cost;
        var currency = string.IsNullOrWhiteSpace(e.Currency) ? "USD" : e.Currency.Trim().ToUpperInvariant();
        sum.Currencies.TryAdd(currency, 0);
        sum.Currencies[currency]++;
    }

    private static List<DailyTotal> Finish(Dictionary<DailyKey, Sum> sums) =>
        sums.OrderBy(kv => kv.Key.UsageDate).ThenBy(kv => kv.Key.Provider, StringComparer.Ordinal).ThenBy(kv => kv.Key.Model, StringComparer.Ordinal)
            .Select(kv =>
            {
                // The most frequent currency names the total; others are reported, never dropped silently.
                var ordered = kv.Value.Currencies.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key).ToList();
                return new DailyTotal(kv.Key, kv.Value.Input, kv.Value.Output, kv.Value.Count, RoundCost(kv.Value.Cost), ordered[0], ordered.Skip(1).ToList());
            })
            .ToList();

    private sealed class Sum
    {
        public long Input;
        public long Output;
        public long Count;
        public decimal Cost;
        public Dictionary<string, int> Currencies { get; } = new(StringComparer.Ordinal);
    }
}
