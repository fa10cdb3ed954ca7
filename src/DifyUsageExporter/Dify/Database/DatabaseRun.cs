using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Dify.Database;

/// <summary>An app (or knowledge pipeline) the database source reads, with its read start and failure flag.</summary>
internal sealed class DatabaseTarget(DifyAppInfo info)
{
    public DifyAppInfo Info { get; } = info;

    public DateTimeOffset ReadFrom { get; set; }

    public bool Failed { get; set; }
}

/// <summary>
/// State of one database extraction: the targets by id, the ledger write buffer (whole sources, flushed in
/// batches as the console source does), per-day failures and agent zero-usage counts.
/// </summary>
internal sealed class DatabaseRun(UsageWindow window, IReadOnlyList<DatabaseTarget> targets, ILedgerWriter store)
{
    private const int FlushSources = 256;
    private const int FlushEvents = 2000;

    private Dictionary<string, IReadOnlyList<UsageEvent>> pending = new(StringComparer.Ordinal);
    private int pendingEvents;
    private readonly Dictionary<(string AppId, DateOnly Day), int> zeroUsage = [];

    public UsageWindow Window { get; } = window;

    public Dictionary<string, DatabaseTarget> Targets { get; } = targets.ToDictionary(t => t.Info.Id, StringComparer.OrdinalIgnoreCase);

    public List<AppDayFailure> Failures { get; } = [];

    public long EventsStored { get; private set; }

    public long RowsRead { get; set; }

    public IEnumerable<ZeroUsageDay> ZeroUsage =>
        zeroUsage.Select(z => new ZeroUsageDay(z.Key.AppId, Targets[z.Key.AppId].Info.Name, z.Key.Day, z.Value));

    /// <summary>True when the instant is in the window and not before the app's read start (as the console source's scope).</summary>
    public bool InRange(DatabaseTarget target, DateTimeOffset at) => at >= target.ReadFrom && Window.Contains(at);

    /// <summary>The usage day of <paramref name="at"/> is incomplete for the app: the row could not be read.</summary>
    public void Fail(DatabaseTarget target, DateTimeOffset at, string reason)
    {
        target.Failed = true;
        if (Window.Contains(at))
        {
            Failures.Add(new AppDayFailure(target.Info.Id, target.Info.Name, Window.DateOf(at), reason));
        }

        DifyMetrics.AppFailures.Add(1);
    }

    public void CountZeroUsage(DatabaseTarget target, DateTimeOffset at)
    {
        var key = (target.Info.Id, Window.DateOf(at));
        zeroUsage[key] = zeroUsage.GetValueOrDefault(key) + 1;
    }

    /// <summary>Queues one source's complete event list (empty = delete what the ledger has for it).</summary>
    public async Task AddAsync(string sourceId, IReadOnlyList<UsageEvent> events, CancellationToken cancellationToken)
    {
        pending[sourceId] = events;
        pendingEvents += events.Count;
        if (pending.Count >= FlushSources || pendingEvents >= FlushEvents)
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (pending.Count == 0)
        {
            return;
        }

        var batch = pending;
        pending = new(StringComparer.Ordinal);
        pendingEvents = 0;
        await store.ReplaceSourcesAsync(batch, cancellationToken).ConfigureAwait(false);
        var count = batch.Values.Sum(e => (long)e.Count);
        EventsStored += count;
        DifyMetrics.Events.Add(count);
    }
}
