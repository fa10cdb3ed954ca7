namespace DifyUsageExporter.Configuration;

/// <summary>
/// The usage days one scheduled cycle exports: DIFY_FETCH_PERIOD relative to today's date in the
/// usage time zone, widened by DIFY_LOOKBACK_DAYS before its start (late data across a month or
/// week boundary is picked up) and cut at today (future days hold nothing and would only be
/// reported as incomplete).
/// </summary>
public static class FetchWindow
{
    /// <summary>The inclusive days [From, To] of the period, before lookback and clamping.</summary>
    public static (DateOnly From, DateOnly To) Period(FetchPeriod period, DateOnly today, DateOnly? customStart, DateOnly? customEnd)
    {
        var monday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7));
        var firstOfMonth = new DateOnly(today.Year, today.Month, 1);
        return period switch
        {
            FetchPeriod.Today => (today, today),
            FetchPeriod.Yesterday => (today.AddDays(-1), today.AddDays(-1)),
            FetchPeriod.CurrentMonth => (firstOfMonth, firstOfMonth.AddMonths(1).AddDays(-1)),
            FetchPeriod.LastMonth => (firstOfMonth.AddMonths(-1), firstOfMonth.AddDays(-1)),
            FetchPeriod.CurrentWeek => (monday, monday.AddDays(6)),
            FetchPeriod.LastWeek => (monday.AddDays(-7), monday.AddDays(-1)),
            FetchPeriod.Custom => (
                customStart ?? throw new ArgumentException("DIFY_FETCH_PERIOD=custom needs DIFY_FETCH_START_DATE (YYYY-MM-DD)."),
                customEnd ?? throw new ArgumentException("DIFY_FETCH_PERIOD=custom needs DIFY_FETCH_END_DATE (YYYY-MM-DD).")),
            _ => throw new ArgumentOutOfRangeException(nameof(period), period, "Unknown fetch period."),
        };
    }

    /// <summary>
    /// The days a scheduled cycle exports: the period's start minus <paramref name="lookbackDays"/>,
    /// through the period's end but never after today. Null when the whole window lies in the future.
    /// </summary>
    public static (DateOnly From, DateOnly To)? Compute(FetchPeriod period, DateOnly today, DateOnly? customStart, DateOnly? customEnd, int lookbackDays)
    {
        var (from, to) = Period(period, today, customStart, customEnd);
        if (from > to)
        {
            throw new ArgumentException($"The fetch period starts ({Iso.Day(from)}) after it ends ({Iso.Day(to)}).");
        }

        from = from.AddDays(-Math.Max(0, lookbackDays));
        if (to > today)
        {
            to = today;
        }

        return from > to ? null : (from, to);
    }

    /// <summary>Convenience for settings.</summary>
    public static (DateOnly From, DateOnly To)? Compute(ExporterSettings settings, DateOnly today) =>
        Compute(settings.FetchPeriod, today, settings.FetchStartDate, settings.FetchEndDate, settings.LookbackDays);
}
