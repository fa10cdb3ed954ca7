namespace DifyUsageExporter.Usage;

public sealed record AppUsage(string Period, string AppId, string AppName, long InputTokens, long OutputTokens, long RequestCount, decimal Cost, string Currency)
{
    public long TotalTokens => InputTokens + OutputTokens;
}

public sealed record WorkspaceUsage(string Period, long InputTokens, long OutputTokens, long RequestCount, decimal Cost, string Currency)
{
    public long TotalTokens => InputTokens + OutputTokens;
}

public sealed record UserUsage(string Period, string UserId, string UserType, string AppId, string AppName, long InputTokens, long OutputTokens, long RequestCount, long SourceCount)
{
    public long TotalTokens => InputTokens + OutputTokens;
}

public sealed record ModelUsage(string Period, string UserId, string UserType, string AppId, string AppName, string Provider, string Model, long InputTokens, long OutputTokens, long RequestCount, decimal Cost, string Currency)
{
    public long TotalTokens => InputTokens + OutputTokens;
}

/// <summary>Per-app, workspace, per-user and per-user-per-model totals for reports (never sent to API_Meter).</summary>
public sealed record UsageBreakdown(
    IReadOnlyList<AppUsage> Apps,
    IReadOnlyList<WorkspaceUsage> Workspace,
    IReadOnlyList<UserUsage> Users,
    IReadOnlyList<ModelUsage> Models)
{
    /// <summary>Aggregates a stream of events by the period <paramref name="periodOf"/> names for each day; costs rounded half away from zero to 7 decimals.</summary>
    public static async Task<UsageBreakdown> BuildAsync(IAsyncEnumerable<UsageEvent> events, Func<DateOnly, string> periodOf, Func<DateOnly, bool>? days, CancellationToken cancellationToken)
    {
        var apps = new Dictionary<(string, string), Acc>();
        var workspace = new Dictionary<string, Acc>();
        var users = new Dictionary<(string, string, string), Acc>();
        var models = new Dictionary<(string, string, string, string, string), Acc>();
        await foreach (var e in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (days is not null && !days(e.UsageDate))
            {
                continue;
            }

            var label = periodOf(e.UsageDate);
            var provider = ProviderModelNormalizer.NormalizeProvider(e.Provider);
            var model = ProviderModelNormalizer.NormalizeModel(e.Model);
            Get(apps, (label, e.AppId)).Add(e);
            Get(workspace, label).Add(e);
            Get(users, (label, e.UserId, e.AppId)).Add(e);
            Get(models, (label, e.UserId, e.AppId, provider, model)).Add(e);
        }

        return new UsageBreakdown(
            apps.OrderBy(a => a.Key.Item1, StringComparer.Ordinal).ThenBy(a => a.Key.Item2, StringComparer.Ordinal)
                .Select(a => new AppUsage(a.Key.Item1, a.Key.Item2, a.Value.First!.AppName, a.Value.Input, a.Value.Output, a.Value.Count, DailyAggregator.RoundCost(a.Value.Cost), a.Value.First.Currency)).ToList(),
            workspace.OrderBy(w => w.Key, StringComparer.Ordinal)
                .Select(w => new WorkspaceUsage(w.Key, w.Value.Input, w.Value.Output, w.Value.Count, DailyAggregator.RoundCost(w.Value.Cost), w.Value.First!.Currency)).ToList(),
            users.OrderBy(u => u.Key.Item1, StringComparer.Ordinal).ThenBy(u => u.Key.Item2, StringComparer.Ordinal).ThenBy(u => u.Key.Item3, StringComparer.Ordinal)
                .Select(u => new UserUsage(u.Key.Item1, u.Key.Item2, u.Value.First!.UserType, u.Key.Item3, u.Value.First.AppName, u.Value.Input, u.Value.Output, u.Value.Count, u.Value.Sources.Count)).ToList(),
            models.OrderBy(m => m.Key.Item1, StringComparer.Ordinal).ThenBy(m => m.Key.Item2, StringComparer.Ordinal).ThenBy(m => m.Key.Item5, StringComparer.Ordinal)
                .ThenBy(m => m.Key.Item3, StringComparer.Ordinal).ThenBy(m => m.Key.Item4, StringComparer.Ordinal)
                .Select(m => new ModelUsage(m.Key.Item1, m.Key.Item2, m.Value.First!.UserType, m.Key.Item3, m.Value.First.AppName, m.Key.Item4, m.Key.Item5, m.Value.Input, m.Value.Output, m.Value.Count, DailyAggregator.RoundCost(m.Value.Cost), m.Value.First.Currency)).ToList());
    }

    private static Acc Get<TKey>(Dictionary<TKey, Acc> map, TKey key)
        where TKey : notnull
    {
        if (!map.TryGetValue(key, out var acc))
        {
            acc = new Acc();
            map[key] = acc;
        }

        return acc;
    }

    private sealed class Acc
    {
        public UsageEvent? First;
        public long Input;
        public long Output;
        public long Count;
        public decimal Cost;
        public HashSet<string> Sources { get; } = new(StringComparer.Ordinal);

        public void Add(UsageEvent e)
        {
            First ??= e;
            Input += e.InputTokens;
            Output += e.OutputTokens;
            Count++;
            Cost += e.Cost;
            Sources.Add(e.SourceId);
        }
    }
}
