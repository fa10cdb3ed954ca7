using System.Text.Json;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Usage;
using Shouldly;
using Xunit;
using static DifyUsageExporter.Tests.Sync.DeliveryHarness;

namespace DifyUsageExporter.Tests.Metering;

public sealed class UsageReportPayloadTests
{
    private static readonly UsageEvent[] Events =
    [
        Event(new DateOnly(2024, 12, 30), "openai", "gpt-4o", 10, 5, 0.1m, app: "a1", user: "u1"),
        Event(new DateOnly(2025, 1, 2), "openai", "gpt-4o", 1, 1, 0.00000005m, app: "a1", user: "u2"),
        Event(new DateOnly(2025, 1, 2), "anthropic", "claude", 2, 3, 0.2m, app: "a2", user: "u2"),
    ];

    private static async Task<JsonElement> BuildAsync(OutputMode mode, AggregationPeriod period)
    {
        var breakdown = await UsageBreakdown.BuildAsync(Events.ToAsyncEnumerable(), d => ReportPeriods.Label(d, period), null, TestContext.Current.CancellationToken);
        var tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
        return JsonDocument.Parse(UsageReportPayload.Build(mode, period, new DateOnly(2024, 12, 30), new DateOnly(2025, 1, 2), tokyo, breakdown)).RootElement.Clone();
    }

    [Fact]
    public async Task Weekly_per_app_report_uses_ISO_week_years_and_local_midnights()
    {
        var root = await BuildAsync(OutputMode.PerApp, AggregationPeriod.Weekly);

        root.GetProperty("aggregation_period").GetString().ShouldBe("weekly");
        root.GetProperty("output_mode").GetString().ShouldBe("per_app");
        root.GetProperty("fetch_period").GetProperty("start").GetString().ShouldBe("2024-12-29T15:00:00.000Z");
        root.GetProperty("fetch_period").GetProperty("end").GetString().ShouldBe("2025-01-02T15:00:00.000Z");
        var apps = root.GetProperty("app_records").EnumerateArray().ToList();
        apps.Count.ShouldBe(2); // both days fall in 2025-W01
        apps.ShouldAllBe(a => a.GetProperty("period").GetString() == "2025-W01");
        var a1 = apps.Single(a => a.GetProperty("app_id").GetString() == "a1");
        a1.GetProperty("token_count").GetInt64().ShouldBe(17);
        a1.GetProperty("total_price").GetString().ShouldBe("0.1000001");
        root.TryGetProperty("model_records", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task All_mode_holds_every_array_and_per_model_only_models()
    {
        var all = await BuildAsync(OutputMode.All, AggregationPeriod.Monthly);
        foreach (var name in new[] { "app_records", "workspace_records", "user_records", "model_records" })
        {
            all.TryGetProperty(name, out _).ShouldBeTrue(name);
        }

        all.GetProperty("workspace_records").EnumerateArray().Select(w => w.GetProperty("period").GetString()).ShouldBe(["2024-12", "2025-01"]);
        var models = (await BuildAsync(OutputMode.PerModel, AggregationPeriod.Daily)).GetProperty("model_records").EnumerateArray().ToList();
        models.Count.ShouldBe(3);
        models.ShouldContain(m => m.GetProperty("model_provider").GetString() == "anthropic" && m.GetProperty("execution_count").GetInt64() == 1);
    }
}
