namespace DifyUsageExporter.Usage;

/// <summary>
/// Usage days <see cref="From"/>..<see cref="To"/> (inclusive) in <see cref="Zone"/>, i.e. the
/// half-open instant range [<see cref="Start"/>, <see cref="End"/>) from local midnight of
/// <see cref="From"/> to local midnight after <see cref="To"/> (usage-semantics.md §2). DST-correct:
/// a day may be 23 or 25 hours long.
/// </summary>
public sealed record UsageWindow
{
    public UsageWindow(DateOnly from, DateOnly to, TimeZoneInfo zone)
    {
        if (to < from)
        {
            throw new ArgumentException($"The window end {Iso.Day(to)} is before its start {Iso.Day(from)}.", nameof(to));
        }

        From = from;
        To = to;
        Zone = zone;
        Start = UsageTime.StartOfDay(from, zone);
        End = UsageTime.StartOfDay(to.AddDays(1), zone);
    }

    public DateOnly From { get; }
    public DateOnly To { get; }
    public TimeZoneInfo Zone { get; }

    /// <summary>First instant of the window (inclusive).</summary>
    public DateTimeOffset Start { get; }

    /// <summary>First instant after the window (exclusive).</summary>
    public DateTimeOffset End { get; }

    public bool Contains(DateTimeOffset instant) => instant >= Start && instant < End;

    /// <summary>The days of the window in order.</summary>
    public IEnumerable<DateOnly> Days() => Enumerable.Range(0, To.DayNumber - From.DayNumber + 1).Select(From.AddDays);

    /// <summary>The usage date of an instant (its local date in <see cref="Zone"/>).</summary>
    public DateOnly DateOf(DateTimeOffset instant) => UsageTime.LocalDate(instant, Zone);
}

/// <summary>Time zone helpers for usage days and Dify's wall-clock filters.</summary>
public static class UsageTime
{
    /// <summary>The local date of <paramref name="instant"/> in <paramref name="zone"/>.</summary>
    public static DateOnly LocalDate(DateTimeOffset instant, TimeZoneInfo zone) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);

    /// <summary>
    /// The first instant of local date <paramref name="date"/> in <paramref name="zone"/>. When local
    /// midnight does not exist (DST starting at 00:00) the day starts at the first valid minute; when
    /// it exists twice, at the earlier of the two instants.
    /// </summary>
    public static DateTimeOffset StartOfDay(DateOnly date, TimeZoneInfo zone)
    {
        var local = date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(1);
        }

        TimeSpan offset;
        if (zone.IsAmbiguousTime(local))
        {
            // The larger offset gives the earlier UTC instant.
            offset = zone.GetAmbiguousTimeOffsets(local).Max();
        }
        else
        {
            offset = zone.GetUtcOffset(local);
        }

        return new DateTimeOffset(local, offset).ToUniversalTime();
    }

    /// <summary>
    /// Resolves an IANA (or Windows) zone id; null when unknown. "UTC"/"Etc/UTC" map to
    /// <see cref="TimeZoneInfo.Utc"/>.
    /// </summary>
    public static TimeZoneInfo? FindZone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return null;
        }

        var trimmed = id.Trim();
        if (trimmed is "UTC" or "Etc/UTC" or "utc")
        {
            return TimeZoneInfo.Utc;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(trimmed);
        }
        catch (TimeZoneNotFoundException)
        {
            // An unknown name is an expected outcome here; callers fall back and warn.
            return null;
        }
        catch (InvalidTimeZoneException)
        {
            // Corrupt tzdata entry: same as unknown.
            return null;
        }
    }
}
