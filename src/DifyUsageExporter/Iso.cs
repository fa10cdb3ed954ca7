using System.Globalization;

namespace DifyUsageExporter;

/// <summary>
/// The one place for ISO 8601 text: usage days (<c>yyyy-MM-dd</c>) and UTC instants, always in the
/// invariant culture. In the root namespace, so every folder can use it without depending on another.
/// </summary>
public static class Iso
{
    /// <summary>A usage day: <c>2026-03-01</c>.</summary>
    public const string DayFormat = "yyyy-MM-dd";

    /// <summary>A UTC instant to the millisecond: <c>2026-03-01T09:30:00.000Z</c> (logs, the store, API payloads).</summary>
    public const string InstantFormat = DayFormat + "'T'HH:mm:ss.fff'Z'";

    /// <summary>A UTC instant to the second: <c>2026-03-01T09:30:00Z</c> (Dify's filters, operator-facing times).</summary>
    public const string InstantSecondsFormat = DayFormat + "'T'HH:mm:ss'Z'";

    public static string Day(DateOnly day) => day.ToString(DayFormat, CultureInfo.InvariantCulture);

    public static string Day(DateOnly? day, string none) => day is { } d ? Day(d) : none;

    /// <summary>Exactly <c>yyyy-MM-dd</c>, or null.</summary>
    public static DateOnly? TryParseDay(string? text) =>
        DateOnly.TryParseExact(text, DayFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : null;

    public static DateOnly ParseDay(string text) => DateOnly.ParseExact(text, DayFormat, CultureInfo.InvariantCulture);

    public static string Instant(DateTimeOffset instant) => instant.UtcDateTime.ToString(InstantFormat, CultureInfo.InvariantCulture);

    public static string InstantSeconds(DateTimeOffset instant) => instant.UtcDateTime.ToString(InstantSecondsFormat, CultureInfo.InvariantCulture);

    /// <summary>Any ISO instant; one without an offset is UTC.</summary>
    public static DateTimeOffset ParseInstant(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
