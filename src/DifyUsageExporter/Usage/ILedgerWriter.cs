namespace DifyUsageExporter.Usage;

/// <summary>Completeness of one usage day after the latest extraction that covered it.</summary>
public sealed record DayExtraction(DateOnly UsageDate, bool Complete, IReadOnlyList<string> IncompleteApps, string TimeZone, DateTimeOffset ExtractedAt);

/// <summary>Where an app's incremental extraction stands.</summary>
public sealed record AppWatermark(string AppId, string AppName, DateTimeOffset Watermark, DateTimeOffset UpdatedAt);

/// <summary>A small persistent key-value state (the Dify login guard's memory of rejected credentials).</summary>
public interface IStateStore
{
    /// <summary>The value of <paramref name="key"/>, or null (callers prefix their keys, e.g. "dify.").</summary>
    Task<string?> ReadStateAsync(string key, CancellationToken cancellationToken);

    Task WriteStateAsync(string key, string value, CancellationToken cancellationToken);

    Task DeleteStateAsync(string key, CancellationToken cancellationToken);
}

/// <summary>
/// What an extraction needs of the store (docs/architecture.md, "the ledger-writer seam"): the
/// ledger it writes per source, per-day completeness, per-app watermarks, and its small state.
/// Implemented by the SQLite store; tests have an in-memory one, and the same specs check both.
/// </summary>
public interface ILedgerWriter : IStateStore
{
    /// <summary>
    /// Replaces, per source (Dify message or workflow run), all stored events of that source by the
    /// given ones, in one transaction. An empty list deletes the source's events. Re-reading a
    /// source therefore never duplicates and a changed value replaces the old one.
    /// </summary>
    Task ReplaceSourcesAsync(IReadOnlyDictionary<string, IReadOnlyList<UsageEvent>> sources, CancellationToken cancellationToken);

    /// <summary>Streams the events of usage days <paramref name="from"/>..<paramref name="to"/> (inclusive), ordered by day and id.</summary>
    IAsyncEnumerable<UsageEvent> ReadEventsAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken);

    /// <summary>Records, for each day of an extraction, whether every app was read completely (a later record replaces an earlier one).</summary>
    Task RecordDayExtractionsAsync(IEnumerable<DayExtraction> days, CancellationToken cancellationToken);

    /// <summary>The recorded completeness of days <paramref name="from"/>..<paramref name="to"/>; days never extracted are absent.</summary>
    Task<IReadOnlyDictionary<DateOnly, DayExtraction>> ReadDayExtractionsAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken);

    /// <summary>All per-app watermarks, ordered by app name, then id.</summary>
    Task<IReadOnlyList<AppWatermark>> ReadWatermarksAsync(CancellationToken cancellationToken);

    /// <summary>Sets an app's watermark. Call only after everything it covers is stored.</summary>
    Task SetWatermarkAsync(string appId, string appName, DateTimeOffset watermark, CancellationToken cancellationToken);

    /// <summary>Keeps the apps the latest extraction skipped because their mode is unknown ("name (id): mode").</summary>
    Task SaveUnknownModeAppsAsync(IReadOnlyList<string> apps, CancellationToken cancellationToken);

    /// <summary>The apps the latest extraction skipped as unknown (empty when none or never extracted).</summary>
    Task<IReadOnlyList<string>> ReadUnknownModeAppsAsync(CancellationToken cancellationToken);
}
