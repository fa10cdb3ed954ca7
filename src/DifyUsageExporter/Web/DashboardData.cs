using DifyUsageExporter.Configuration;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Telemetry;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Web;

/// <summary>What the dashboard and the usage API read: the store, the daemon's cycle status and the settings.</summary>
public sealed record DashboardContext(
    DashboardSettings Settings,
    StateStore Store,
    CycleStatus Status,
    TimeProvider Time,
    TimeZoneInfo? UsageTimeZone,
    SecretRegistry Secrets,
    ILoggerFactory Loggers)
{
    /// <summary>Text that came from outside (cycle summaries, API_Meter errors) passes through this before it is shown.</summary>
    internal LogMasker Masker { get; } = new(Secrets);

    /// <summary>
    /// The zone the ledger's usage days are in: USAGE_TIMEZONE, else the zone of the latest
    /// extraction (the Dify account's), else UTC.
    /// </summary>
    internal async Task<TimeZoneInfo> ZoneAsync(CancellationToken cancellationToken) =>
        UsageTimeZone ?? UsageTime.FindZone(await Store.ReadLatestUsageTimeZoneAsync(cancellationToken).ConfigureAwait(false)) ?? TimeZoneInfo.Utc;
}

/// <summary>One spool batch as shown on the page.</summary>
internal sealed record SpoolBatch(string BatchId, string Target, string Status, int Records, DateOnly FirstDay, DateOnly LastDay, int FailedCycles, DateTimeOffset Updated, string? LastError);

/// <summary>Everything one rendering of the dashboard shows.</summary>
internal sealed record DashboardModel(
    UsageQuery Query,
    TimeZoneInfo Zone,
    DateTimeOffset Now,
    IReadOnlyList<UsageRollupRow> Days,
    IReadOnlyList<UsageRollupRow> Models,
    IReadOnlyList<UsageRollupRow> Apps,
    IReadOnlyList<UsageRollupRow> Users,
    IReadOnlyList<CycleRecord> Cycles,
    IReadOnlyList<SpoolBatch> Spool,
    CycleStatus Status,
    string? Error)
{
    public const int CycleRows = 20;

    /// <summary>The latest reconcile with Dify's statistics as the store keeps it (JSON), or null.</summary>
    public string? ReconcileJson { get; init; }

    public static async Task<DashboardModel> LoadAsync(DashboardContext context, UsageQuery query, TimeZoneInfo zone, string? error, CancellationToken cancellationToken)
    {
        var store = context.Store;
        var rollups = await UsageRollup.BuildAsync(
            store.ReadEventsAsync(query.From, query.To, cancellationToken),
            [[UsageDimension.Day], [UsageDimension.Model], [UsageDimension.App], [UsageDimension.User]],
            cancellationToken).ConfigureAwait(false);
        var cycles = (await store.ReadRecentCyclesAsync(CycleRows, cancellationToken).ConfigureAwait(false))
            .Select(c => c with { Summary = c.Summary is null ? null : context.Masker.Apply(c.Summary) }).ToList();
        var spool = (await store.ReadOutboxAsync(null, null, null, cancellationToken).ConfigureAwait(false))
            .GroupBy(r => (r.BatchId, r.Target, r.Status))
            .Select(g => new SpoolBatch(
                g.Key.BatchId, g.Key.Target, g.Key.Status, g.Count(), g.Min(r => r.UsageDate), g.Max(r => r.UsageDate),
                g.Max(r => r.FailedCycles), g.Max(r => r.UpdatedAt), g.Select(r => r.LastError).FirstOrDefault(e => e is not null) is { } e ? context.Masker.Apply(e) : null))
            .OrderBy(b => b.Status == OutboxRow.Dead ? 0 : 1).ThenBy(b => b.BatchId, StringComparer.Ordinal)
            .ToList();
        var reconcile = await store.ReadReconcileAsync(cancellationToken).ConfigureAwait(false);
        return new DashboardModel(query, zone, context.Time.GetUtcNow(), rollups[0], ByCost(rollups[1]), ByCost(rollups[2]), ByCost(rollups[3]), cycles, spool, context.Status, error) { ReconcileJson = reconcile };
    }

    private static List<UsageRollupRow> ByCost(IReadOnlyList<UsageRollupRow> rows) =>
        rows.OrderByDescending(r => r.Cost).ThenByDescending(r => r.TotalTokens).ToList();
}
