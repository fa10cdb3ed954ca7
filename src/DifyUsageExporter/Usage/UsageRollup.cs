namespace DifyUsageExporter.Usage;

/// <summary>What ledger totals can be split by (the dashboard and GET /api/usage).</summary>
public enum UsageDimension { Day, Model, App, User }

/// <summary>
/// One group of ledger events: the dimensions that were asked for are set, the others null.
/// Model is the normalised (provider, model) pair API_Meter receives; cost is exact, rounded once
/// to 7 decimals, and never summed across currencies (a mixed group becomes one row per currency).
/// </summary>
public sealed record UsageRollupRow(
    DateOnly? Day,
    string? Provider,
    string? Model,
    string? AppId,
    string? AppName,
    string? UserId,
    string? UserType,
    long InputTokens,
    long OutputTokens,
    long Requests,
    decimal Cost,
    string Currency)
{
    public long TotalTokens => InputTokens + OutputTokens;
}

/// <summary>Groups ledger events by any combination of <see cref="UsageDimension"/>s, several groupings in one pass.</summary>
public static class UsageRollup
{
    public static async Task<IReadOnlyList<IReadOnlyList<UsageRollupRow>>> BuildAsync(
        IAsyncEnumerable<UsageEvent> events, IReadOnlyList<IReadOnlyList<UsageDimension>> groupings, CancellationToken cancellationToken)
    {
        var maps = await UsageSums.GroupAsync(events, groupings.Select(By).ToList(), cancellationToken).ConfigureAwait(false);
        return maps.Select((map, i) => (IReadOnlyList<UsageRollupRow>)map
            .Select(kv => new UsageRollupRow(
                kv.Key.Day, kv.Key.Provider, kv.Key.Model, kv.Key.AppId, kv.Key.AppId is null ? null : kv.Value.First!.AppName, kv.Key.UserId, kv.Key.UserType,
                kv.Value.InputTokens, kv.Value.OutputTokens, kv.Value.Requests, kv.Value.RoundedCost, kv.Key.Currency!))
            .OrderBy(r => r, new RowOrder(groupings[i]))
            .ToList()).ToList();
    }

    /// <summary>The dimensions asked for set in the group, always the currency (never summed across currencies).</summary>
    private static UsageGrouping By(IReadOnlyList<UsageDimension> by) => new((e, n) => new UsageGroup(
        Day: by.Contains(UsageDimension.Day) ? e.UsageDate : null,
        Provider: by.Contains(UsageDimension.Model) ? n.Provider : null,
        Model: by.Contains(UsageDimension.Model) ? n.Model : null,
        AppId: by.Contains(UsageDimension.App) ? e.AppId : null,
        UserId: by.Contains(UsageDimension.User) ? e.UserId : null,
        UserType: by.Contains(UsageDimension.User) ? e.UserType : null,
        Currency: n.Currency));

    /// <summary>Rows ordered by the dimensions in the order they were asked for, then currency.</summary>
    private sealed class RowOrder(IReadOnlyList<UsageDimension> by) : IComparer<UsageRollupRow>
    {
        public int Compare(UsageRollupRow? x, UsageRollupRow? y)
        {
            foreach (var dimension in by)
            {
                var c = dimension switch
                {
                    UsageDimension.Day => Nullable.Compare(x!.Day, y!.Day),
                    UsageDimension.Model => Both(x!.Provider, y!.Provider, x.Model, y.Model),
                    UsageDimension.App => Both(x!.AppName, y!.AppName, x.AppId, y.AppId),
                    _ => Both(x!.UserId, y!.UserId, x.UserType, y.UserType),
                };
                if (c != 0)
                {
                    return c;
                }
            }

            return string.CompareOrdinal(x!.Currency, y!.Currency);
        }

        private static int Both(string? a1, string? b1, string? a2, string? b2)
        {
            var c = string.CompareOrdinal(a1, b1);
            return c != 0 ? c : string.CompareOrdinal(a2, b2);
        }
    }
}
