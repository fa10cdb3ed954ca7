namespace DifyUsageExporter.Usage;

/// <summary>
/// One billable model invocation recorded by Dify (usage-semantics.md §1). Provider and model are
/// kept raw as Dify reported them; <see cref="ProviderModelNormalizer"/> applies the §3 rules when
/// aggregating. <see cref="UsageDate"/> is the local date of <see cref="OccurredAt"/> in the usage
/// time zone (§2).
/// </summary>
public sealed record UsageEvent
{
    public required string EventId { get; init; }
    /// <summary>The Dify message id or workflow run id the event was read from: re-reading that
    /// source replaces all of its events at once (see StateStore.ReplaceSourcesAsync).</summary>
    public required string SourceId { get; init; }
    public required string AppId { get; init; }
    public required string AppName { get; init; }
    public required string AppMode { get; init; }
    public required string UserId { get; init; }
    /// <summary><c>end_user</c> or <c>account</c> (or <c>unknown</c>).</summary>
    public required string UserType { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public required DateOnly UsageDate { get; init; }
    public required string Provider { get; init; }
    public required string Model { get; init; }
    public required long InputTokens { get; init; }
    public required long OutputTokens { get; init; }
    public required decimal Cost { get; init; }
    public required string Currency { get; init; }
}
