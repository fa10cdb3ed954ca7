namespace DifyUsageExporter.Usage;

/// <summary>One app (and, when known, one usage day) whose extraction did not complete.</summary>
public sealed record AppDayFailure(string AppId, string AppName, DateOnly? UsageDate, string Reason);

/// <summary>
/// The outcome of extracting usage days <see cref="From"/>..<see cref="To"/> into the ledger. The
/// per-day completeness is also recorded in the store (day_extractions), which is what delivery
/// reads: a day with any failure is never delivered as if it were whole.
/// <see cref="Concurrency"/> describes the requests the source had in flight (for the cycle summary).
/// </summary>
public sealed record ExtractionReport(
    TimeZoneInfo TimeZone,
    DateOnly From,
    DateOnly To,
    long EventsStored,
    int AppsRead,
    int AppsSkipped,
    IReadOnlyList<AppDayFailure> Failures,
    string? Concurrency = null)
{
    /// <summary>Days of the window that are not complete (any failure without a day makes every day incomplete).</summary>
    public IReadOnlyList<DateOnly> IncompleteDays()
    {
        if (Failures.Any(f => f.UsageDate is null))
        {
            return Enumerable.Range(0, To.DayNumber - From.DayNumber + 1).Select(From.AddDays).ToList();
        }

        return Failures.Select(f => f.UsageDate!.Value).Distinct().Order().ToList();
    }
}

/// <summary>
/// Where usage comes from (the Dify extractor; a seam so the export cycle can be tested with a
/// fixed ledger). Implementations write events and day completeness into the store.
/// </summary>
public interface IUsageSource
{
    /// <summary>USAGE_TIMEZONE, else the Dify account's time zone, else UTC.</summary>
    Task<TimeZoneInfo> ResolveTimeZoneAsync(CancellationToken cancellationToken);

    /// <summary>Extracts usage days <paramref name="from"/>..<paramref name="to"/> (inclusive, in the usage time zone) into the ledger.</summary>
    /// <param name="fullRead">True = ignore watermarks and re-read the whole window.</param>
    Task<ExtractionReport> ExtractAsync(DateOnly from, DateOnly to, bool fullRead, CancellationToken cancellationToken);

    /// <summary>A new cycle starts: per-cycle limits (one Dify login attempt per cycle) reset.</summary>
    void BeginCycle()
    {
    }
}
