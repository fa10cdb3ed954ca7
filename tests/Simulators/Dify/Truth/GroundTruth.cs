namespace Simulators.Dify;

/// <summary>
/// The expected usage of a workspace, computed from the simulator's own object model by the rules
/// of usage-semantics.md §1–2. Windows are days <c>[from, to]</c> in a zone, i.e. the half-open
/// instant range <c>[from 00:00, to+1 00:00)</c> local.
/// </summary>
public sealed partial class GroundTruth
{
    private GroundTruth(IReadOnlyList<TruthEvent> events) => Events = events;

    /// <summary>Every expected event of the workspace, in no particular order.</summary>
    public IReadOnlyList<TruthEvent> Events { get; }

    /// <summary>Computes the truth of a workspace (archived apps and unknown modes are not counted).</summary>
    public static GroundTruth Compute(SimWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        var events = new List<TruthEvent>();
        foreach (var app in workspace.Apps.Where(a => !a.Archived))
        {
            switch (app.ReportedMode)
            {
                case "chat" or "agent-chat" or "completion":
                    AddMessageEvents(app, events);
                    break;
                case "advanced-chat":
                    AddAdvancedChatEvents(app, events);
                    break;
                case "workflow":
                    AddWorkflowEvents(app, events);
                    break;
                case "agent":
                    AddAgentEvents(app, events);
                    break;
                default:
                    break; // modes the exporter skips with a warning
            }
        }

        AddPipelineEvents(workspace, events);
        return new GroundTruth(events);
    }

    /// <summary>Events whose local date in <paramref name="zone"/> lies in [from, to].</summary>
    public IEnumerable<TruthEvent> EventsIn(TimeZoneInfo zone, DateOnly from, DateOnly to)
    {
        ArgumentNullException.ThrowIfNull(zone);
        return Events.Where(e =>
        {
            var d = e.LocalDate(zone);
            return d >= from && d <= to;
        });
    }

    public IReadOnlyList<TruthDayModelRow> ByDayProviderModel(TimeZoneInfo zone, DateOnly from, DateOnly to)
        => [.. EventsIn(zone, from, to)
            .GroupBy(e => (Date: e.LocalDate(zone), e.Provider, e.Model))
            .Select(g => new TruthDayModelRow(g.Key.Date, g.Key.Provider, g.Key.Model, g.Sum(e => e.InputTokens), g.Sum(e => e.OutputTokens), g.Count(), g.Sum(e => e.Cost)))
            .OrderBy(r => r.Date).ThenBy(r => r.Provider, StringComparer.Ordinal).ThenBy(r => r.Model, StringComparer.Ordinal)];

    public IReadOnlyList<TruthDayAppRow> ByDayApp(TimeZoneInfo zone, DateOnly from, DateOnly to)
        => [.. EventsIn(zone, from, to)
            .GroupBy(e => (Date: e.LocalDate(zone), e.AppId))
            .Select(g => new TruthDayAppRow(g.Key.Date, g.Key.AppId, g.First().AppName, g.First().AppMode, g.Sum(e => e.InputTokens), g.Sum(e => e.OutputTokens), g.Count(), g.Sum(e => e.Cost)))
            .OrderBy(r => r.Date).ThenBy(r => r.AppId)];

    public IReadOnlyList<TruthDayUserRow> ByDayUser(TimeZoneInfo zone, DateOnly from, DateOnly to)
        => [.. EventsIn(zone, from, to)
            .GroupBy(e => (Date: e.LocalDate(zone), e.UserId, e.UserType))
            .Select(g => new TruthDayUserRow(g.Key.Date, g.Key.UserId, g.Key.UserType, g.Sum(e => e.InputTokens), g.Sum(e => e.OutputTokens), g.Count(), g.Sum(e => e.Cost)))
            .OrderBy(r => r.Date).ThenBy(r => r.UserId, StringComparer.Ordinal)];

    public TruthTotals Totals(TimeZoneInfo zone, DateOnly from, DateOnly to)
    {
        var list = EventsIn(zone, from, to).ToList();
        return new TruthTotals(list.Sum(e => e.InputTokens), list.Sum(e => e.OutputTokens), list.Count, list.Sum(e => e.Cost));
    }

    /// <summary>Totals of every event.</summary>
    public TruthTotals Totals()
        => new(Events.Sum(e => e.InputTokens), Events.Sum(e => e.OutputTokens), Events.Count, Events.Sum(e => e.Cost));

    /// <summary>The first and last local dates that hold an event (null when empty).</summary>
    public (DateOnly First, DateOnly Last)? DateRange(TimeZoneInfo zone)
        => Events.Count == 0 ? null : (Events.Min(e => e.LocalDate(zone)), Events.Max(e => e.LocalDate(zone)));
}
