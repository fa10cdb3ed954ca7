using DifyUsageExporter.Configuration;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Configuration;

public class CronScheduleTests
{
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    private static readonly TimeZoneInfo Tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");

    private static DateTimeOffset Utc(int y, int mo, int d, int h, int mi = 0) => new(y, mo, d, h, mi, 0, TimeSpan.Zero);

    [Fact]
    public void Daily_01_00_in_New_York_follows_the_spring_forward_change()
    {
        var cron = CronSchedule.Parse("0 1 * * *", NewYork);

        // 2026-03-08 is the US spring-forward day: 01:00 is still EST (UTC-5), the next day EDT (UTC-4).
        var first = cron.NextAfter(Utc(2026, 3, 7, 12));
        var second = cron.NextAfter(first);

        first.ShouldBe(Utc(2026, 3, 8, 6));
        second.ShouldBe(Utc(2026, 3, 9, 5));
        (second - first).ShouldBe(TimeSpan.FromHours(23));
    }

    [Fact]
    public void Daily_noon_in_New_York_follows_the_fall_back_change()
    {
        var cron = CronSchedule.Parse("0 12 * * *", NewYork);

        // 2026-11-01 is the fall-back day: noon is EST (UTC-5) from then on.
        var first = cron.NextAfter(Utc(2026, 10, 31, 0));
        var second = cron.NextAfter(first);

        first.ShouldBe(Utc(2026, 10, 31, 16));
        second.ShouldBe(Utc(2026, 11, 1, 17));
        (second - first).ShouldBe(TimeSpan.FromHours(25));
    }

    [Fact]
    public void An_hourly_schedule_skips_the_hour_that_does_not_exist()
    {
        var cron = CronSchedule.Parse("0 * * * *", NewYork);

        // 01:30 EST = 06:30Z; the next local full hour is 03:00 EDT = 07:00Z (02:00 does not exist).
        cron.NextAfter(Utc(2026, 3, 8, 6, 30)).ShouldBe(Utc(2026, 3, 8, 7));
    }

    [Fact]
    public void Tokyo_01_00_is_16_00_UTC_of_the_previous_day()
    {
        var cron = CronSchedule.Parse("0 1 * * *", Tokyo);

        cron.NextAfter(Utc(2025, 12, 15, 10)).ShouldBe(Utc(2025, 12, 15, 16));
    }

    [Theory]
    [InlineData("*/15 * * * *", 2025, 1, 1, 0, 7, 0, 15)]
    [InlineData("0 0 1 * *", 2025, 1, 15, 0, 0, 0, 0)]
    [InlineData("30 9 * * 0", 2025, 1, 1, 0, 0, 9, 30)]
    [InlineData("30 9 * * 7", 2025, 1, 1, 0, 0, 9, 30)]
    public void Standard_five_field_expressions_in_UTC(string expression, int y, int mo, int d, int h, int mi, int expectedHour, int expectedMinute)
    {
        var next = CronSchedule.Parse(expression, TimeZoneInfo.Utc).NextAfter(Utc(y, mo, d, h, mi));

        next.Hour.ShouldBe(expectedHour);
        next.Minute.ShouldBe(expectedMinute);
        if (expression.EndsWith(" 0", StringComparison.Ordinal) || expression.EndsWith(" 7", StringComparison.Ordinal))
        {
            next.DayOfWeek.ShouldBe(DayOfWeek.Sunday);
            next.ShouldBe(Utc(2025, 1, 5, 9, 30));
        }
    }

    [Theory]
    [InlineData("0 0 * *")]
    [InlineData("0 0 0 * * *")]
    [InlineData("61 0 * * *")]
    [InlineData("0 25 * * *")]
    [InlineData("every day")]
    public void Invalid_expressions_are_rejected_with_a_reason(string expression)
    {
        CronSchedule.TryParse(expression, TimeZoneInfo.Utc, out var schedule, out var reason).ShouldBeFalse();
        schedule.ShouldBeNull();
        reason.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public void When_both_day_fields_are_restricted_a_day_matching_either_fires_as_in_crontab()
    {
        var cron = CronSchedule.Parse("0 9 1 * MON", TimeZoneInfo.Utc);

        // 2024-01-01 is a Monday; after it come the Mondays of January, then Thursday 1 February.
        cron.NextAfter(Utc(2024, 1, 1, 9)).ShouldBe(Utc(2024, 1, 8, 9));
        cron.NextAfter(Utc(2024, 1, 29, 9)).ShouldBe(Utc(2024, 2, 1, 9));
        cron.NextAfter(Utc(2024, 2, 1, 9)).ShouldBe(Utc(2024, 2, 5, 9));
    }

    [Theory]
    [InlineData("0 0 L * *", 2024, 2, 10, 2024, 2, 29)] // last day of a leap February
    [InlineData("0 0 LW * *", 2024, 6, 1, 2024, 6, 28)] // last weekday: 30 June 2024 is a Sunday
    [InlineData("0 0 15W * *", 2024, 6, 1, 2024, 6, 14)] // 15 June 2024 is a Saturday
    [InlineData("0 0 * * 5L", 2024, 1, 1, 2024, 1, 26)] // last Friday of January 2024
    [InlineData("0 0 * * 5#3", 2024, 1, 1, 2024, 1, 19)] // third Friday
    [InlineData("0 0 ? * SUN", 2024, 1, 1, 2024, 1, 7)]
    [InlineData("0 0 1 jan,jul *", 2024, 2, 1, 2024, 7, 1)]
    [InlineData("@monthly", 2024, 1, 15, 2024, 2, 1)]
    [InlineData("@yearly", 2024, 1, 15, 2025, 1, 1)]
    [InlineData("@weekly", 2024, 1, 1, 2024, 1, 7)]
    [InlineData("@daily", 2024, 1, 1, 2024, 1, 2)]
    public void Crontab_extensions_and_macros_are_accepted(string expression, int y, int mo, int d, int ey, int emo, int ed)
    {
        CronSchedule.Parse(expression, TimeZoneInfo.Utc).NextAfter(Utc(y, mo, d, 0)).ShouldBe(Utc(ey, emo, ed, 0));
    }

    [Theory]
    [InlineData("0 0 1 * * *", "6 fields instead of 5")]
    [InlineData("H 0 * * *", "uses H")]
    [InlineData("@reboot", "RUN_ON_START=always")]
    [InlineData("@every_minute", "unknown macro")]
    [InlineData("0 0 30 2 *", "never fires")]
    [InlineData("0 0 31 4 *", "never fires")]
    [InlineData("0 0 * * 8", "between 0 and 7")]
    public void Expressions_that_cannot_run_are_rejected_with_the_reason(string expression, string reason)
    {
        CronSchedule.TryParse(expression, TimeZoneInfo.Utc, out _, out var actual).ShouldBeFalse();
        actual.ShouldNotBeNull();
        actual.ShouldContain(reason);
    }
}
