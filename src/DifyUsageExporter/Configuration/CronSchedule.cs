using Quartz;

namespace DifyUsageExporter.Configuration;

/// <summary>
/// A standard 5-field cron expression (minute hour day-of-month month day-of-week, Sunday = 0 or 7)
/// evaluated in a time zone, DST changes included. Parsing and evaluation are Quartz's
/// <see cref="CronExpression"/> (<see cref="CronFormat.Unix"/>), not a hand-written parser.
/// </summary>
public sealed class CronSchedule
{
    public const string AcceptedForm = "a 5-field cron expression 'minute hour day-of-month month day-of-week', e.g. '0 1 * * *' (daily at 01:00) or '*/15 * * * *'.";

    private readonly CronExpression expression;

    private CronSchedule(string text, CronExpression expression, TimeZoneInfo zone)
    {
        Text = text;
        this.expression = expression;
        TimeZone = zone;
    }

    public string Text { get; }

    public TimeZoneInfo TimeZone { get; }

    /// <summary>Parses <paramref name="text"/>; returns false with a reason when it is not a valid 5-field expression.</summary>
    public static bool TryParse(string text, TimeZoneInfo zone, out CronSchedule? schedule, out string? reason)
    {
        schedule = null;
        var fields = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            reason = $"has {fields.Length} fields instead of 5.";
            return false;
        }

        try
        {
            var normalised = string.Join(' ', fields);
            var expression = CronExpression.Parse(normalised, CronFormat.Unix).WithTimeZone(zone);
            if (expression.GetNextValidTimeAfter(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero)) is null)
            {
                reason = "never fires.";
                return false;
            }

            schedule = new CronSchedule(normalised, expression, zone);
            reason = null;
            return true;
        }
        catch (FormatException ex)
        {
            reason = "is not valid (" + ex.Message.TrimEnd('.') + ").";
            return false;
        }
    }

    public static CronSchedule Parse(string text, TimeZoneInfo zone) =>
        TryParse(text, zone, out var schedule, out var reason) ? schedule! : throw new FormatException($"CRON_SCHEDULE '{text}' {reason}");

    /// <summary>The first firing strictly after <paramref name="instant"/>, in UTC.</summary>
    public DateTimeOffset NextAfter(DateTimeOffset instant) =>
        expression.GetNextValidTimeAfter(instant)?.ToUniversalTime()
        ?? throw new InvalidOperationException($"The cron expression '{Text}' has no firing after {instant:O}.");
}
