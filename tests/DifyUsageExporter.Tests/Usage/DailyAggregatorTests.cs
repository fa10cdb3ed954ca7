using DifyUsageExporter.Tests.Sync;
using DifyUsageExporter.Usage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Usage;

public sealed class DailyAggregatorTests
{
    private static readonly DateOnly Day = new(2026, 3, 1);

    [Fact]
    public void Sums_exactly_then_rounds_once_half_away_from_zero_to_7_decimals()
    {
        var events = new[]
        {
            DeliveryHarness.Event(Day, "openai", "gpt-4o", 1, 0, 0.00000005m),
            DeliveryHarness.Event(Day, "openai", "gpt-4o", 1, 0, 0.00000010m),
        };

        var total = DailyAggregator.Aggregate(events).ShouldHaveSingleItem();

        total.Cost.ShouldBe(0.0000002m); // 0.00000015 → half away from zero
        DailyAggregator.RoundCost(0.00000025m).ShouldBe(0.0000003m); // banker's rounding would give 0.0000002
    }

    [Fact]
    public void Keys_are_normalised_before_grouping_so_name_variants_merge()
    {
        var events = new[]
        {
            DeliveryHarness.Event(Day, "langgenius/openai/openai", "GPT-4o ", 10, 1, 0.1m, app: "a"),
            DeliveryHarness.Event(Day, " OpenAI", "gpt-4o", 20, 2, 0.2m, app: "b", user: "u2"),
            DeliveryHarness.Event(Day, "", "", 5, 0, 0m),
            DeliveryHarness.Event(Day.AddDays(1), "openai", "gpt-4o", 1, 1, 0.01m),
        };

        var totals = DailyAggregator.Aggregate(events);

        totals.Select(t => t.Key.ToString()).ShouldBe(["2026-03-01|openai|gpt-4o", "2026-03-01|unknown|unknown", "2026-03-02|openai|gpt-4o"]);
        var merged = totals[0];
        (merged.InputTokens, merged.OutputTokens, merged.TotalTokens, merged.RequestCount, merged.Cost).ShouldBe((30L, 3L, 33L, 2L, 0.3m));
    }

    [Fact]
    public void Mixed_currencies_are_reported_not_dropped()
    {
        var events = new[]
        {
            DeliveryHarness.Event(Day, "openai", "gpt-4o", 1, 0, 1m, currency: "USD"),
            DeliveryHarness.Event(Day, "openai", "gpt-4o", 1, 0, 1m, currency: "USD"),
            DeliveryHarness.Event(Day, "openai", "gpt-4o", 1, 0, 1m, currency: "CNY"),
        };

        var total = DailyAggregator.Aggregate(events).ShouldHaveSingleItem();

        total.Currency.ShouldBe("USD");
        total.OtherCurrencies.ShouldBe(["CNY"]);
    }
}
