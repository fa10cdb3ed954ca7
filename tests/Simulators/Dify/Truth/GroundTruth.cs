namespace Simulators.Dify;

/// <summary>
/// The expected usage of a workspace, computed from the simulator's own object model by the rules
/// of usage-semantics.md §1–2. Windows are days <c>[from, to]</c> in a zone, i.e. the half-open
/// instant range <c>[from 00:00, to+1 00:00)</c> local.
/// </summary>
public sealed partial class GroundTruth
{
    private readonly SimWorkspace _workspace;
    private readonly Lazy<IReadOnlyList<TruthEvent>> _events;
    private readonly Lazy<int> _count;

    private GroundTruth(SimWorkspace workspace)
    {
        _workspace = workspace;
        _events = new Lazy<IReadOnlyList<TruthEvent>>(() => [.. Stream()]);
        _count = new Lazy<int>(() => Stream().Count());
    }

    /// <summary>
    /// Every expected event of the workspace, in no particular order (materialised on first use; the
    /// aggregates below stream instead, so a million-event workspace never holds its events).
    /// </summary>
    public IReadOnlyList<TruthEvent> Events => _events.Value;

    /// <summary>The number of expected events (streamed once).</summary>
    public int Count => _events.IsValueCreated ? _events.Value.Count : _count.Value;

    /// <summary>The truth of a workspace (archived apps and unknown modes are not counted); computed when read.</summary>
    public static GroundTruth Compute(SimWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return new GroundTruth(workspace);
    }

    /// <summary>Every expected event, derived from the workspace again on each enumeration.</summary>
    public IEnumerable<TruthEvent> Stream()
    {
        foreach (var app in _workspace.Apps.Where(a => !a.Archived))
        {
            var events = app.ReportedMode switch
            {
                "chat" or "agent-chat" or "completion" => MessageEvents(app),
                "advanced-chat" => AdvancedChatEvents(app),
                "workflow" => WorkflowEvents(app),
                "agent" => AgentEvents(app),
                _ => [], // modes the exporter skips with a warning
            };
            foreach (var e in events)
            {
                yield return e;
            }
        }

        foreach (var e in PipelineEvents(_workspace))
        {
            yield return e;
        }
    }

    /// <summary>Events whose local date in <paramref name="zone"/> lies in [from, to].</summary>
    public IEnumerable<TruthEvent> EventsIn(TimeZoneInfo zone, DateOnly from, DateOnly to)
    {
        ArgumentNullException.ThrowIfNull(zone);
        return Source.Where(e =>
        {
            var d = e.LocalDate(zone);
            return d >= from && d <= to;
        });
    }

    public IReadOnlyList<TruthDayModelRow> ByDayProviderModel(TimeZoneInfo zone, DateOnly from, DateOnly to)
        => [.. Sum(zone, from, to, (e, d) => (Date: d, e.Provider, e.Model))
            .Select(g => new TruthDayModelRow(g.Key.Date, g.Key.Provider, g.Key.Model, g.Value.Input, g.Value.Output, g.Value.Count, g.Value.Cost))
            .OrderBy(r => r.Date).ThenBy(r => r.Provider, StringComparer.Ordinal).ThenBy(r => r.Model, StringComparer.Ordinal)];

    public IReadOnlyList<TruthDayAppRow> ByDayApp(TimeZoneInfo zone, DateOnly from, DateOnly to)
        => [.. Sum(zone, from, to, (e, d) => (Date: d, e.AppId))
            .Select(g => new TruthDayAppRow(g.Key.Date, g.Key.AppId, g.Value.First.AppName, g.Value.First.AppMode, g.Value.Input, g.Value.Output, g.Value.Count, g.Value.Cost))
            .OrderBy(r => r.Date).ThenBy(r => r.AppId)];

    public IReadOnlyList<TruthDayUserRow> ByDayUser(TimeZoneInfo zone, DateOnly from, DateOnly to)
        => [.. Sum(zone, from, to, (e, d) => (Date: d, e.UserId, e.UserType))
            .Select(g => new TruthDayUserRow(g.Key.Date, g.Key.UserId, g.Key.UserType, g.Value.Input, g.Value.Output, g.Value.Count, g.Value.Cost))
            .OrderBy(r => r.Date).ThenBy(r => r.UserId, StringComparer.Ordinal)];

    public TruthTotals Totals(TimeZoneInfo zone, DateOnly from, DateOnly to) => Total(EventsIn(zone, from, to));

    /// <summary>Totals of every event.</summary>
    public TruthTotals Totals() => Total(Source);

    /// <summary>The first and last local dates that hold an event (null when empty).</summary>
    public (DateOnly First, DateOnly Last)? DateRange(TimeZoneInfo zone)
    {
        (DateOnly First, DateOnly Last)? range = null;
        foreach (var e in Source)
        {
            var d = e.LocalDate(zone);
            range = range is { } r ? (d < r.First ? d : r.First, d > r.Last ? d : r.Last) : (d, d);
        }

        return range;
    }

    /// <summary>The materialised events once a caller asked for them, else a fresh stream.</summary>
    private IEnumerable<TruthEvent> Source => _events.IsValueCreated ? _events.Value : Stream();

    private static TruthTotals Total(IEnumerable<TruthEvent> events)
    {
        long input = 0, output = 0;
        var count = 0;
        var cost = 0m;
        foreach (var e in events)
        {
            (input, output, count, cost) = (input + e.InputTokens, output + e.OutputTokens, count + 1, cost + e.Cost);
        }

        return new TruthTotals(input, output, count, cost);
    }

    private sealed class Bucket(TruthEvent first)
    {
        public TruthEvent First { get; } = first;

        public long Input { get; set; }

        public long Output { get; set; }

        public int Count { get; set; }

        public decimal Cost { get; set; }
    }

    private Dictionary<TKey, Bucket> Sum<TKey>(TimeZoneInfo zone, DateOnly from, DateOnly to, Func<TruthEvent, DateOnly, TKey> key)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(zone);
        var sums = new Dictionary<TKey, Bucket>();
        foreach (var e in Source)
        {
            var d = e.LocalDate(zone);
            if (d < from || d > to)
            {
                continue;
            }

            var k = key(e, d);
            if (!sums.TryGetValue(k, out var b))
            {
                sums[k] = b = new Bucket(e);
            }

            b.Input += e.InputTokens;
            b.Output += e.OutputTokens;
            b.Count++;
            b.Cost += e.Cost;
        }

        return sums;
    }
}
