namespace DifyUsageExporter.Usage;

/// <summary>What a group of events is keyed by: the fields its grouping asks for, the others null.</summary>
public readonly record struct UsageGroup(
    DateOnly? Day = null,
    string? Period = null,
    string? Provider = null,
    string? Model = null,
    string? AppId = null,
    string? UserId = null,
    string? UserType = null,
    string? Currency = null,
    string? Label = null);

/// <summary>An event's names as the totals use them (usage-semantics.md §3), computed once per event for every grouping.</summary>
public readonly record struct NormalizedNames(string Provider, string Model, string Currency);

/// <summary>One way to group events: the event's group, or null to leave the event out.</summary>
public sealed record UsageGrouping(Func<UsageEvent, NormalizedNames, UsageGroup?> GroupOf, bool CountSources = false);

/// <summary>
/// The running totals of one group: tokens, requests (one per event), the exact decimal cost (rounded
/// only when read, once, half away from zero to 7 decimals), how often each currency occurred, the
/// group's first event (names of apps and users) and, when asked, its distinct sources.
/// </summary>
public sealed class UsageSum(bool countSources = false)
{
    private readonly Dictionary<string, int> currencies = new(StringComparer.Ordinal);
    private readonly HashSet<string>? sources = countSources ? new(StringComparer.Ordinal) : null;

    public UsageEvent? First { get; private set; }

    public long InputTokens { get; private set; }

    public long OutputTokens { get; private set; }

    public long Requests { get; private set; }

    /// <summary>The exact sum.</summary>
    public decimal Cost { get; private set; }

    public decimal RoundedCost => UsageSums.RoundCost(Cost);

    /// <summary>Distinct <see cref="UsageEvent.SourceId"/>s (0 unless the grouping counts sources).</summary>
    public int SourceCount => sources?.Count ?? 0;

    /// <summary>The currencies seen, most frequent first (ties in ordinal order): the first names the total, the others are reported, never dropped silently.</summary>
    public IReadOnlyList<string> Currencies => currencies.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key).ToList();

    public void Add(UsageEvent e)
    {
        First ??= e;
        Add(e.InputTokens, e.OutputTokens, e.Cost, e.Currency);
        sources?.Add(e.SourceId);
    }

    /// <summary>Adds one event given by its numbers (the ledger's per-day totals read rows, not events).</summary>
    public void Add(long inputTokens, long outputTokens, decimal cost, string currency)
    {
        InputTokens += inputTokens;
        OutputTokens += outputTokens;
        Requests++;
        Cost += cost;
        var code = UsageSums.NormalizeCurrency(currency);
        currencies[code] = currencies.GetValueOrDefault(code) + 1;
    }
}

/// <summary>
/// The one aggregation of usage events: one pass, any number of groupings, every group summed by
/// <see cref="UsageSum"/>. Daily totals (<see cref="DailyAggregator"/>), the report breakdowns
/// (<see cref="UsageBreakdown"/>), the dashboard rollups (<see cref="UsageRollup"/>) and the
/// <c>usage</c> command are groupings of it; each orders and shapes its own rows.
/// </summary>
public static class UsageSums
{
    public const int CostDecimals = 7;

    /// <summary>Half away from zero, to 7 decimals (banker's rounding would turn 0.00000025 into 0.0000002).</summary>
    public static decimal RoundCost(decimal cost) => Math.Round(cost, CostDecimals, MidpointRounding.AwayFromZero);

    /// <summary>Blank → USD (Dify's default), otherwise trimmed upper case.</summary>
    public static string NormalizeCurrency(string? currency) => string.IsNullOrWhiteSpace(currency) ? "USD" : currency.Trim().ToUpperInvariant();

    public static NormalizedNames Names(UsageEvent e) =>
        new(ProviderModelNormalizer.NormalizeProvider(e.Provider), ProviderModelNormalizer.NormalizeModel(e.Model), NormalizeCurrency(e.Currency));

    /// <summary>Streams <paramref name="events"/> once; one map of groups per grouping, in the order given.</summary>
    public static async Task<IReadOnlyList<Dictionary<UsageGroup, UsageSum>>> GroupAsync(IAsyncEnumerable<UsageEvent> events, IReadOnlyList<UsageGrouping> groupings, CancellationToken cancellationToken)
    {
        var maps = groupings.Select(_ => new Dictionary<UsageGroup, UsageSum>()).ToList();
        await foreach (var e in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            Add(e, groupings, maps);
        }

        return maps;
    }

    /// <summary>The same over an in-memory list.</summary>
    public static IReadOnlyList<Dictionary<UsageGroup, UsageSum>> Group(IEnumerable<UsageEvent> events, IReadOnlyList<UsageGrouping> groupings)
    {
        var maps = groupings.Select(_ => new Dictionary<UsageGroup, UsageSum>()).ToList();
        foreach (var e in events)
        {
            Add(e, groupings, maps);
        }

        return maps;
    }

    private static void Add(UsageEvent e, IReadOnlyList<UsageGrouping> groupings, List<Dictionary<UsageGroup, UsageSum>> maps)
    {
        var names = Names(e);
        for (var i = 0; i < groupings.Count; i++)
        {
            if (groupings[i].GroupOf(e, names) is not { } group)
            {
                continue;
            }

            if (!maps[i].TryGetValue(group, out var sum))
            {
                sum = new UsageSum(groupings[i].CountSources);
                maps[i][group] = sum;
            }

            sum.Add(e);
        }
    }
}
