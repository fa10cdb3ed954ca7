namespace Simulators.Dify;

/// <summary>One expected usage event (usage-semantics.md §1), derived from the model, not from served JSON.</summary>
/// <param name="EventId">Message id (chat, completion, advanced-chat fallback) or node execution id.</param>
/// <param name="Source"><c>message</c>, <c>message-fallback</c> (advanced-chat) or <c>node</c>.</param>
public sealed record TruthEvent(
    string EventId,
    Guid AppId,
    string AppName,
    string AppMode,
    string UserId,
    string UserType,
    DateTimeOffset OccurredAt,
    string Provider,
    string Model,
    long InputTokens,
    long OutputTokens,
    decimal Cost,
    string Source)
{
    public DateOnly LocalDate(TimeZoneInfo zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(OccurredAt, zone).DateTime);
}

/// <summary>Per day, normalised provider and model: exactly what API_Meter receives for the day.</summary>
public sealed record TruthDayModelRow(DateOnly Date, string Provider, string Model, long InputTokens, long OutputTokens, int RequestCount, decimal Cost);

/// <summary>Per day and app.</summary>
public sealed record TruthDayAppRow(DateOnly Date, Guid AppId, string AppName, string AppMode, long InputTokens, long OutputTokens, int RequestCount, decimal Cost);

/// <summary>Per day and user (<c>end_user</c> or <c>account</c>).</summary>
public sealed record TruthDayUserRow(DateOnly Date, string UserId, string UserType, long InputTokens, long OutputTokens, int RequestCount, decimal Cost);

/// <summary>Totals over a window.</summary>
public sealed record TruthTotals(long InputTokens, long OutputTokens, int RequestCount, decimal Cost)
{
    public long TotalTokens => InputTokens + OutputTokens;
}
