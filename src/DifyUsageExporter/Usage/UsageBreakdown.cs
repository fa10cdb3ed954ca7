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
    /// <remarks>Names (app, user type) and the currency of a group are those of its first event.</remarks>
    public static async Task<UsageBreakdown> BuildAsync(IAsyncEnumerable<UsageEvent> events, Func<DateOnly, string> periodOf, Func<DateOnly, bool>? days, CancellationToken cancellationToken)
    {
        string? Period(UsageEvent e) => days is not null && !days(e.UsageDate) ? null : periodOf(e.UsageDate);
        var groups = await UsageSums.GroupAsync(
            events,
            [
                new((e, _) => Period(e) is { } p ? new UsageGroup(Period: p, AppId: e.AppId) : null),
                new((e, _) => Period(e) is { } p ? new UsageGroup(Period: p) : null),
                new((e, _) => Period(e) is { } p ? new UsageGroup(Period: p, UserId: e.UserId, AppId: e.AppId) : null, CountSources: true),
                new((e, n) => Period(e) is { } p ? new UsageGroup(Period: p, UserId: e.UserId, AppId: e.AppId, Provider: n.Provider, Model: n.Model) : null),
            ],
            cancellationToken).ConfigureAwait(false);
        var (apps, workspace, users, models) = (groups[0], groups[1], groups[2], groups[3]);

        return new UsageBreakdown(
            apps.OrderBy(a => a.Key.Period, StringComparer.Ordinal).ThenBy(a => a.Key.AppId, StringComparer.Ordinal)
                .Select(a => new AppUsage(a.Key.Period!, a.Key.AppId!, a.Value.First!.AppName, a.Value.InputTokens, a.Value.OutputTokens, a.Value.Requests, a.Value.RoundedCost, a.Value.First.Currency)).ToList(),
            workspace.OrderBy(w => w.Key.Period, StringComparer.Ordinal)
                .Select(w => new WorkspaceUsage(w.Key.Period!, w.Value.InputTokens, w.Value.OutputTokens, w.Value.Requests, w.Value.RoundedCost, w.Value.First!.Currency)).ToList(),
            users.OrderBy(u => u.Key.Period, StringComparer.Ordinal).ThenBy(u => u.Key.UserId, StringComparer.Ordinal).ThenBy(u => u.Key.AppId, StringComparer.Ordinal)
                .Select(u => new UserUsage(u.Key.Period!, u.Key.UserId!, u.Value.First!.UserType, u.Key.AppId!, u.Value.First.AppName, u.Value.InputTokens, u.Value.OutputTokens, u.Value.Requests, u.Value.SourceCount)).ToList(),
            models.OrderBy(m => m.Key.Period, StringComparer.Ordinal).ThenBy(m => m.Key.UserId, StringComparer.Ordinal).ThenBy(m => m.Key.Model, StringComparer.Ordinal)
                .ThenBy(m => m.Key.AppId, StringComparer.Ordinal).ThenBy(m => m.Key.Provider, StringComparer.Ordinal)
                .Select(m => new ModelUsage(m.Key.Period!, m.Key.UserId!, m.Value.First!.UserType, m.Key.AppId!, m.Value.First.AppName, m.Key.Provider!, m.Key.Model!, m.Value.InputTokens, m.Value.OutputTokens, m.Value.Requests, m.Value.RoundedCost, m.Value.First.Currency)).ToList());
    }
}
