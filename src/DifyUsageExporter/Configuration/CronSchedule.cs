using Cronos;

namespace DifyUsageExporter.Configuration;

/// <summary>
/// A standard 5-field crontab expression (minute hour day-of-month month day-of-week, Sunday = 0 or
/// 7; names, ranges, steps, lists, <c>L</c>, <c>W</c>, <c>#</c>, <c>?</c> and the @yearly..@hourly
/// macros) evaluated in a time zone with Cronos. Two crontab(5) rules Cronos does not apply by
/// itself are kept here: when both day-of-month and day-of-week restrict the day, a day matching
/// either fires (POSIX; what this exporter did before, with Quartz's Unix format), and a firing
/// inside a DST gap runs at the end of the gap (Cronos's rule). See docs/configuration.md.
/// </summary>
public sealed class CronSchedule
{
    public const string AcceptedForm = "a 5-field cron expression 'minute hour day-of-month month day-of-week', e.g. '0 1 * * *' (daily at 01:00) or '*/15 * * * *', or @daily/@weekly/@monthly/@yearly/@hourly.";

    private static readonly string[] Macros = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];
    private static readonly DateTimeOffset Epoch = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly IReadOnlyList<CronExpression> expressions;

    private CronSchedule(string text, IReadOnlyList<CronExpression> expressions, TimeZoneInfo zone)
    {
        Text = text;
        this.expressions = expressions;
        TimeZone = zone;
    }

    public string Text { get; }

    public TimeZoneInfo TimeZone { get; }

    /// <summary>Parses <paramref name="text"/>; returns false with a reason when it is not a valid expression that fires.</summary>
    public static bool TryParse(string text, TimeZoneInfo zone, out CronSchedule? schedule, out string? reason)
    {
        schedule = null;
        var fields = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var normalised = string.Join(' ', fields);
        reason = Precheck(fields);
        if (reason is not null)
        {
            return false;
        }

        try
        {
            var parsed = Expand(fields).Select(e => CronExpression.Parse(e, CronFormat.Standard)).ToList();
            var candidate = new CronSchedule(normalised, parsed, zone);
            if (candidate.TryNextAfter(Epoch) is null)
            {
                reason = "never fires (no month has that day).";
                return false;
            }

            schedule = candidate;
            return true;
        }
        catch (CronFormatException ex)
        {
            reason = "is not valid (" + ex.Message.Replace("The given cron expression has an invalid format. ", string.Empty, StringComparison.Ordinal).TrimEnd('.') + ").";
            return false;
        }
    }

    public static CronSchedule Parse(string text, TimeZoneInfo zone) =>
        TryParse(text, zone, out var schedule, out var reason) ? schedule! : throw new FormatException($"CRON_SCHEDULE '{text}' {reason}");

    /// <summary>The first firing strictly after <paramref name="instant"/>, in UTC.</summary>
    public DateTimeOffset NextAfter(DateTimeOffset instant) =>
        TryNextAfter(instant) ?? throw new InvalidOperationException($"The cron expression '{Text}' has no firing after {instant:O}.");

    /// <summary>Whether the schedule has a firing in (<paramref name="after"/>, <paramref name="until"/>].</summary>
    public bool FiresBetween(DateTimeOffset after, DateTimeOffset until) => TryNextAfter(after) is { } next && next <= until;

    private DateTimeOffset? TryNextAfter(DateTimeOffset instant)
    {
        DateTimeOffset? best = null;
        foreach (var expression in expressions)
        {
            if (expression.GetNextOccurrence(instant.ToUniversalTime(), TimeZone) is { } next && (best is null || next < best))
            {
                best = next;
            }
        }

        return best?.ToUniversalTime();
    }

    private static string? Precheck(string[] fields)
    {
        if (fields.Length == 1 && fields[0].StartsWith('@'))
        {
            return Macros.Contains(fields[0].ToLowerInvariant())
                ? null
                : fields[0].Equals("@reboot", StringComparison.OrdinalIgnoreCase)
                    ? "uses @reboot, which has no time; to run a cycle at every start set RUN_ON_START=always and keep a regular schedule."
                    : $"uses the unknown macro {fields[0]}; the macros are {string.Join(", ", Macros)}.";
        }

        if (fields.Length != 5)
        {
            return fields.Length == 6
                ? "has 6 fields instead of 5: CRON_SCHEDULE is the crontab form without a seconds field; drop the first field (e.g. '0 0 1 * * *' becomes '0 1 * * *')."
                : $"has {fields.Length} fields instead of 5.";
        }

        // Cronos reads H as a jitter that needs a seed; Quartz rejected it too. Say so plainly.
        return fields.SelectMany(f => f.Split(',', '-', '/')).Any(t => t.Equals("H", StringComparison.OrdinalIgnoreCase) || t.StartsWith("H(", StringComparison.OrdinalIgnoreCase))
            ? "uses H (a hashed value, a Jenkins/Quartz extension); write the minute and hour explicitly."
            : null;
    }

    /// <summary>
    /// POSIX crontab: when both day fields are restricted, a day matching either one fires. Cronos
    /// requires both to match, so such an expression becomes two (day-of-month only and
    /// day-of-week only) whose next firings are merged.
    /// </summary>
    private static IEnumerable<string> Expand(string[] fields)
    {
        if (fields.Length == 5 && Restricts(fields[2]) && Restricts(fields[4]))
        {
            yield return $"{fields[0]} {fields[1]} {fields[2]} {fields[3]} *";
            yield return $"{fields[0]} {fields[1]} * {fields[3]} {fields[4]}";
            yield break;
        }

        yield return string.Join(' ', fields);
    }

    private static bool Restricts(string field) => field is not ("*" or "?");
}
