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
}
