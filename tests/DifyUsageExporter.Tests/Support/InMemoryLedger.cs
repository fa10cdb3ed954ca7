using System.Runtime.CompilerServices;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Tests.Support;

/// <summary>
/// The in-memory <see cref="ILedgerWriter"/>: what extraction tests may use instead of a SQLite file.
/// Its behaviour is pinned by the same specs as the SQLite store (Storage/LedgerWriterSpecs.cs).
/// </summary>
public sealed class InMemoryLedger(TimeProvider time) : ILedgerWriter
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, UsageEvent> events = new(StringComparer.Ordinal);
    private readonly Dictionary<DateOnly, DayExtraction> days = [];
    private readonly Dictionary<string, AppWatermark> watermarks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> state = new(StringComparer.Ordinal);
    private IReadOnlyList<string> unknownModeApps = [];

    public Task ReplaceSourcesAsync(IReadOnlyDictionary<string, IReadOnlyList<UsageEvent>> sources, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            foreach (var (sourceId, replacement) in sources)
            {
                var keep = replacement.Select(e => e.EventId).ToHashSet(StringComparer.Ordinal);
                foreach (var gone in events.Values.Where(e => e.SourceId == sourceId && !keep.Contains(e.EventId)).Select(e => e.EventId).ToList())
                {
                    events.Remove(gone);
                }

                foreach (var e in replacement)
                {
                    events[e.EventId] = e with { SourceId = sourceId };
                }
            }
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<UsageEvent> ReadEventsAsync(DateOnly from, DateOnly to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<UsageEvent> selected;
        lock (gate)
        {
            selected = events.Values.Where(e => e.UsageDate >= from && e.UsageDate <= to)
                .OrderBy(e => e.UsageDate).ThenBy(e => e.EventId, StringComparer.Ordinal).ToList();
        }

        foreach (var e in selected)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return e;
        }
    }

    public Task RecordDayExtractionsAsync(IEnumerable<DayExtraction> days, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            foreach (var day in days)
            {
                this.days[day.UsageDate] = day with { IncompleteApps = day.IncompleteApps.ToList() };
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyDictionary<DateOnly, DayExtraction>> ReadDayExtractionsAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return Task.FromResult<IReadOnlyDictionary<DateOnly, DayExtraction>>(days.Where(d => d.Key >= from && d.Key <= to).ToDictionary());
        }
    }

    public Task<IReadOnlyList<AppWatermark>> ReadWatermarksAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return Task.FromResult<IReadOnlyList<AppWatermark>>(watermarks.Values
                .OrderBy(w => w.AppName, StringComparer.Ordinal).ThenBy(w => w.AppId, StringComparer.Ordinal).ToList());
        }
    }

    public Task SetWatermarkAsync(string appId, string appName, DateTimeOffset watermark, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            watermarks[appId] = new AppWatermark(appId, appName, watermark, time.GetUtcNow());
        }

        return Task.CompletedTask;
    }

    public Task SaveUnknownModeAppsAsync(IReadOnlyList<string> apps, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            unknownModeApps = apps.ToList();
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> ReadUnknownModeAppsAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return Task.FromResult(unknownModeApps);
        }
    }

    public Task<string?> ReadStateAsync(string key, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return Task.FromResult(state.GetValueOrDefault(key));
        }
    }

    public Task WriteStateAsync(string key, string value, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            state[key] = value;
        }

        return Task.CompletedTask;
    }

    public Task DeleteStateAsync(string key, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            state.Remove(key);
        }

        return Task.CompletedTask;
    }
}
