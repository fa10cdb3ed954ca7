using DifyUsageExporter.Configuration;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Configuration;

public sealed class FetchWindowTests
{
    private static DateOnly D(int y, int m, int d) => new(y, m, d);

    [Theory]
    // today = Wednesday 2026-03-04
    [InlineData(FetchPeriod.Today, "2026-03-04", "2026-03-04", "2026-03-04")]
    [InlineData(FetchPeriod.Yesterday, "2026-03-04", "2026-03-03", "2026-03-03")]
    [InlineData(FetchPeriod.CurrentMonth, "2026-03-04", "2026-03-01", "2026-03-31")]
    [InlineData(FetchPeriod.LastMonth, "2026-03-04", "2026-02-01", "2026-02-28")]
    [InlineData(FetchPeriod.LastMonth, "2024-03-31", "2024-02-01", "2024-02-29")]
    [InlineData(FetchPeriod.LastMonth, "2026-01-15", "2025-12-01", "2025-12-31")]
    [InlineData(FetchPeriod.CurrentWeek, "2026-03-04", "2026-03-02", "2026-03-08")]
    [InlineData(FetchPeriod.CurrentWeek, "2026-03-08", "2026-03-02", "2026-03-08")] // Sunday belongs to the week that began Monday
    [InlineData(FetchPeriod.CurrentWeek, "2026-03-02", "2026-03-02", "2026-03-08")]
    [InlineData(FetchPeriod.LastWeek, "2026-03-04", "2026-02-23", "2026-03-01")]
    [InlineData(FetchPeriod.LastWeek, "2026-01-01", "2025-12-22", "2025-12-28")]
    public void Periods_cover_whole_days(FetchPeriod period, string today, string from, string to)
    {
        var (f, t) = FetchWindow.Period(period, DateOnly.Parse(today, System.Globalization.CultureInfo.InvariantCulture), null, null);
        (f.ToString("yyyy-MM-dd", null), t.ToString("yyyy-MM-dd", null)).ShouldBe((from, to));
    }

    [Fact]
    public void Lookback_reaches_into_the_previous_month_and_the_end_is_cut_at_today()
    {
        FetchWindow.Compute(FetchPeriod.CurrentMonth, D(2026, 3, 1), null, null, 2).ShouldBe((D(2026, 2, 27), D(2026, 3, 1)));
        FetchWindow.Compute(FetchPeriod.Yesterday, D(2026, 3, 1), null, null, 2).ShouldBe((D(2026, 2, 26), D(2026, 2, 28)));
        FetchWindow.Compute(FetchPeriod.LastMonth, D(2026, 3, 10), null, null, 0).ShouldBe((D(2026, 2, 1), D(2026, 2, 28)));
        FetchWindow.Compute(FetchPeriod.CurrentWeek, D(2026, 3, 4), null, null, 1).ShouldBe((D(2026, 3, 1), D(2026, 3, 4)));
    }

    [Fact]
    public void Custom_uses_the_given_days_and_refuses_a_reversed_or_missing_range()
    {
        FetchWindow.Compute(FetchPeriod.Custom, D(2026, 3, 10), D(2026, 1, 5), D(2026, 1, 7), 2).ShouldBe((D(2026, 1, 3), D(2026, 1, 7)));
        FetchWindow.Compute(FetchPeriod.Custom, D(2026, 3, 10), D(2026, 4, 1), D(2026, 4, 3), 0).ShouldBeNull();
        Should.Throw<ArgumentException>(() => FetchWindow.Compute(FetchPeriod.Custom, D(2026, 3, 10), D(2026, 1, 8), D(2026, 1, 7), 0));
        Should.Throw<ArgumentException>(() => FetchWindow.Compute(FetchPeriod.Custom, D(2026, 3, 10), null, D(2026, 1, 7), 0));
    }

    [Fact]
    public void Today_is_the_date_in_the_usage_time_zone()
    {
        var tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
        var instant = new DateTimeOffset(2026, 2, 28, 15, 30, 0, TimeSpan.Zero); // 00:30 on 1 March in Tokyo
        DifyUsageExporter.Usage.UsageTime.LocalDate(instant, tokyo).ShouldBe(D(2026, 3, 1));
        DifyUsageExporter.Usage.UsageTime.LocalDate(instant, TimeZoneInfo.Utc).ShouldBe(D(2026, 2, 28));
    }
}
