using System.Globalization;
using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Metering;

/// <summary>Period labels of the generic usage report: daily YYYY-MM-DD, weekly ISO YYYY-Www (ISO week-year), monthly YYYY-MM.</summary>
public static class ReportPeriods
{
    public static string Label(DateOnly date, AggregationPeriod period) => period switch
    {
        AggregationPeriod.Daily => Iso.Day(date),
        AggregationPeriod.Weekly => string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(date.ToDateTime(TimeOnly.MinValue)):D4}-W{ISOWeek.GetWeekOfYear(date.ToDateTime(TimeOnly.MinValue)):D2}"),
        AggregationPeriod.Monthly => date.ToString("yyyy-MM", CultureInfo.InvariantCulture),
        _ => throw new ArgumentOutOfRangeException(nameof(period), period, "Unknown aggregation period."),
    };

    public static string Name(AggregationPeriod period) => period switch
    {
        AggregationPeriod.Daily => "daily",
        AggregationPeriod.Weekly => "weekly",
        AggregationPeriod.Monthly => "monthly",
        _ => throw new ArgumentOutOfRangeException(nameof(period), period, "Unknown aggregation period."),
    };
}
