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
/// Daily per-key totals (usage-semantics.md §3): the grouping of <see cref="UsageSums"/> by usage
/// day and normalised provider and model. The cost is summed exactly and rounded once, half away
/// from zero, to 7 decimals.
/// </summary>
public static class DailyAggregator
{
    public const int CostDecimals = UsageSums.CostDecimals;

    /// <summary>
    /// Version of the normalisation and summing rules. The ledger keeps per-day totals computed with
    /// these rules (StateStore.RefreshDailyTotalsAsync); bump it whenever ProviderModelNormalizer,
    /// <see cref="UsageSum"/> or this class changes what a key or a sum is, and every stored day is
    /// re-aggregated once.
    /// </summary>
    public const int RulesVersion = 1;

    public static decimal RoundCost(decimal cost) => UsageSums.RoundCost(cost);

    /// <summary>Aggregates a stream of events (any order); only events whose day is in <paramref name="days"/> (null = all) count.</summary>
    public static async Task<IReadOnlyList<DailyTotal>> AggregateAsync(IAsyncEnumerable<UsageEvent> events, Func<DateOnly, bool>? days, CancellationToken cancellationToken) =>
        Totals((await UsageSums.GroupAsync(events, [ByDay(days)], cancellationToken).ConfigureAwait(false))[0]);

    /// <summary>Synchronous variant for in-memory event lists.</summary>
    public static IReadOnlyList<DailyTotal> Aggregate(IEnumerable<UsageEvent> events, Func<DateOnly, bool>? days = null) =>
        Totals(UsageSums.Group(events, [ByDay(days)])[0]);

    private static UsageGrouping ByDay(Func<DateOnly, bool>? days) =>
        new((e, n) => days is null || days(e.UsageDate) ? new UsageGroup(Day: e.UsageDate, Provider: n.Provider, Model: n.Model) : null);

    private static IReadOnlyList<DailyTotal> Totals(Dictionary<UsageGroup, UsageSum> groups) =>
        Totals(groups.Select(g => (new DailyKey(g.Key.Day!.Value, g.Key.Provider!, g.Key.Model!), g.Value)));

    /// <summary>The totals ordered by day, provider, model (ordinal); the cost rounded once per key.</summary>
    private static IReadOnlyList<DailyTotal> Totals(IEnumerable<(DailyKey Key, UsageSum Sum)> groups) =>
        groups.OrderBy(g => g.Key.UsageDate).ThenBy(g => g.Key.Provider, StringComparer.Ordinal).ThenBy(g => g.Key.Model, StringComparer.Ordinal)
            .Select(g =>
            {
                var currencies = g.Sum.Currencies;
                return new DailyTotal(g.Key, g.Sum.InputTokens, g.Sum.OutputTokens, g.Sum.Requests, g.Sum.RoundedCost, currencies[0], currencies.Skip(1).ToList());
            })
            .ToList();

    /// <summary>
    /// The per-key sums of any number of events given by their numbers (raw provider/model,
    /// normalised here): the ledger's incremental totals feed one changed day at a time.
    /// </summary>
    public sealed class Accumulator
    {
        private readonly Dictionary<DailyKey, UsageSum> sums = [];

        public void Add(DateOnly usageDate, string provider, string model, long inputTokens, long outputTokens, decimal cost, string currency)
        {
            var key = new DailyKey(usageDate, ProviderModelNormalizer.NormalizeProvider(provider), ProviderModelNormalizer.NormalizeModel(model));
            if (!sums.TryGetValue(key, out var sum))
            {
                sum = new UsageSum();
                sums[key] = sum;
            }

            sum.Add(inputTokens, outputTokens, cost, currency);
        }

        /// <summary>The totals ordered by day, provider, model (ordinal); the cost rounded once per key.</summary>
        public IReadOnlyList<DailyTotal> Finish() => Totals(sums.Select(kv => (kv.Key, kv.Value)));
    }
}
