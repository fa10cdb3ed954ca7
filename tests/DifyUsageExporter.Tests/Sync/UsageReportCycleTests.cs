using System.Text.Json;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Sync;
using Shouldly;
using Xunit;
using static DifyUsageExporter.Tests.Sync.DeliveryHarness;

namespace DifyUsageExporter.Tests.Sync;

public sealed class UsageReportCycleTests
{
    [Fact]
    public async Task The_usage_report_goes_through_the_spool_once_per_content()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var h = await CreateAsync(configure: s => s with { UsageReportUrl = receiver.Url, OutputMode = OutputMode.Both, AggregationPeriod = AggregationPeriod.Monthly });
        var day = new DateOnly(2026, 3, 1);
        h.Source.Events.AddRange([Event(day, "openai", "gpt-4o", 10, 5, 0.25m, app: "a1"), Event(day.AddDays(1), "openai", "gpt-4o", 1, 1, 0.25m, app: "a2")]);

        (await h.ExportAsync(day, day.AddDays(1))).Outcome.ShouldBe(CycleOutcome.Success);
        (await h.ExportAsync(day, day.AddDays(1))).Outcome.ShouldBe(CycleOutcome.Success);

        var body = receiver.Bodies.ShouldHaveSingleItem();
        using var doc = JsonDocument.Parse(body);
        doc.RootElement.GetProperty("output_mode").GetString().ShouldBe("both");
        doc.RootElement.GetProperty("workspace_records")[0].GetProperty("token_count").GetInt64().ShouldBe(17);
        doc.RootElement.GetProperty("workspace_records")[0].GetProperty("total_price").GetString().ShouldBe("0.5000000");
        doc.RootElement.GetProperty("app_records").GetArrayLength().ShouldBe(2);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
    }
}
