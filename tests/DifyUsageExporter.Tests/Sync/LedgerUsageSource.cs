using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>
/// A test <see cref="IUsageSource"/>: "Dify" holds <see cref="Events"/>; an extraction writes the
/// window's events into the real ledger (replacing each source as a whole) and records every day as
/// complete unless it is listed in <see cref="FailingDays"/>.
/// </summary>
public sealed class LedgerUsageSource(StateStore store, TimeZoneInfo zone, TimeProvider time) : IUsageSource
{
    private readonly HashSet<string> knownSources = [];

    public List<UsageEvent> Events { get; } = [];

    public HashSet<DateOnly> FailingDays { get; } = [];

    public int Extractions { get; private set; }

    /// <summary>When set, extraction fails with this message (Dify unreachable).</summary>
    public string? Failure { get; set; }

    public Task<TimeZoneInfo> ResolveTimeZoneAsync(CancellationToken cancellationToken) => Task.FromResult(zone);

    public async Task<ExtractionReport> ExtractAsync(DateOnly from, DateOnly to, bool fullRead, CancellationToken cancellationToken)
    {
        Extractions++;
        if (Failure is not null)
        {
            throw new HttpRequestException(Failure);
        }

        var inWindow = Events.Where(e => e.UsageDate >= from && e.UsageDate <= to).ToList();
        var sources = inWindow.GroupBy(e => e.SourceId).ToDictionary(g => g.Key, g => (IReadOnlyList<UsageEvent>)g.ToList());
        foreach (var gone in knownSources.Where(s => !sources.ContainsKey(s)).ToList())
        {
            sources[gone] = [];
        }

        knownSources.UnionWith(sources.Keys);
        await store.ReplaceSourcesAsync(sources, cancellationToken);
        var days = new List<DayExtraction>();
        var failures = new List<AppDayFailure>();
        for (var d = from; d <= to; d = d.AddDays(1))
        {
            var failing = FailingDays.Contains(d);
            days.Add(new DayExtraction(d, !failing, failing ? ["app-broken"] : [], zone.Id, time.GetUtcNow()));
            if (failing)
            {
                failures.Add(new AppDayFailure("app-broken", "Broken app", d, "simulated 500"));
            }
        }

        await store.RecordDayExtractionsAsync(days, cancellationToken);
        return new ExtractionReport(zone, from, to, inWindow.Count, 1, 0, failures);
    }
}
