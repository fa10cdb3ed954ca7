using DifyUsageExporter.Usage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Usage;

public class UsageWindowTests
{
    private static readonly TimeZoneInfo Tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    [Fact]
    public void Tokyo_day_starts_at_15_utc_the_day_before()
    {
        var window = new UsageWindow(new DateOnly(2025, 11, 21), new DateOnly(2025, 11, 21), Tokyo);
        window.Start.ShouldBe(new DateTimeOffset(2025, 11, 20, 15, 0, 0, TimeSpan.Zero));
        window.End.ShouldBe(new DateTimeOffset(2025, 11, 21, 15, 0, 0, TimeSpan.Zero));
        window.Contains(new DateTimeOffset(2025, 11, 21, 14, 59, 59, TimeSpan.Zero)).ShouldBeTrue();
        window.Contains(window.End).ShouldBeFalse();
    }

    [Fact]
    public void New_york_spring_forward_day_has_23_hours_and_fall_back_day_25()
    {
        var spring = new UsageWindow(new DateOnly(2025, 3, 9), new DateOnly(2025, 3, 9), NewYork);
        spring.Start.ShouldBe(new DateTimeOffset(2025, 3, 9, 5, 0, 0, TimeSpan.Zero));
        (spring.End - spring.Start).ShouldBe(TimeSpan.FromHours(23));

        var fall = new UsageWindow(new DateOnly(2025, 11, 2), new DateOnly(2025, 11, 2), NewYork);
        fall.Start.ShouldBe(new DateTimeOffset(2025, 11, 2, 4, 0, 0, TimeSpan.Zero));
        (fall.End - fall.Start).ShouldBe(TimeSpan.FromHours(25));
        // 05:30 UTC on 2 Nov is 01:30 EDT, 06:30 UTC is 01:30 EST: both on the 2nd.
        fall.DateOf(new DateTimeOffset(2025, 11, 2, 6, 30, 0, TimeSpan.Zero)).ShouldBe(new DateOnly(2025, 11, 2));
        fall.DateOf(new DateTimeOffset(2025, 11, 3, 4, 59, 0, TimeSpan.Zero)).ShouldBe(new DateOnly(2025, 11, 2));
        fall.DateOf(new DateTimeOffset(2025, 11, 3, 5, 0, 0, TimeSpan.Zero)).ShouldBe(new DateOnly(2025, 11, 3));
    }

    [Fact]
    public void Multi_day_window_lists_its_days()
    {
        var window = new UsageWindow(new DateOnly(2025, 10, 30), new DateOnly(2025, 11, 2), TimeZoneInfo.Utc);
        window.Days().ShouldBe([new DateOnly(2025, 10, 30), new DateOnly(2025, 10, 31), new DateOnly(2025, 11, 1), new DateOnly(2025, 11, 2)]);
        Should.Throw<ArgumentException>(() => new UsageWindow(new DateOnly(2025, 1, 2), new DateOnly(2025, 1, 1), TimeZoneInfo.Utc));
    }

    [Fact]
    public void Find_zone_resolves_iana_names_and_rejects_unknown()
    {
        UsageTime.FindZone("Asia/Tokyo")!.BaseUtcOffset.ShouldBe(TimeSpan.FromHours(9));
        UsageTime.FindZone("UTC").ShouldBe(TimeZoneInfo.Utc);
        UsageTime.FindZone("Mars/Olympus").ShouldBeNull();
        UsageTime.FindZone(null).ShouldBeNull();
    }
}
