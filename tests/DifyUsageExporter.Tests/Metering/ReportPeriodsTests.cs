using DifyUsageExporter.Configuration;
using DifyUsageExporter.Metering;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Metering;

public sealed class ReportPeriodsTests
{
    [Theory]
    [InlineData(2024, 12, 30, "2025-W01")] // the anchor labelled this 2024-W01
    [InlineData(2027, 1, 1, "2026-W53")]   // the anchor labelled this 2027-W53
    [InlineData(2021, 1, 3, "2020-W53")]
    [InlineData(2026, 3, 4, "2026-W10")]
    [InlineData(2026, 12, 31, "2026-W53")]
    public void Weekly_labels_use_the_ISO_week_year(int y, int m, int d, string expected) =>
        ReportPeriods.Label(new DateOnly(y, m, d), AggregationPeriod.Weekly).ShouldBe(expected);

    [Fact]
    public void Daily_and_monthly_labels()
    {
        ReportPeriods.Label(new DateOnly(2026, 3, 4), AggregationPeriod.Daily).ShouldBe("2026-03-04");
        ReportPeriods.Label(new DateOnly(2026, 3, 4), AggregationPeriod.Monthly).ShouldBe("2026-03");
    }
}
