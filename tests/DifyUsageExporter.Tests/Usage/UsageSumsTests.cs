using DifyUsageExporter.Metering;
using DifyUsageExporter.Tests.Sync;
using DifyUsageExporter.Usage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Usage;

/// <summary>
/// Daily totals, the report breakdown and the dashboard rollup are groupings of one aggregation:
/// over the same events they give the same sums, which the test computes on its own from the
/// events it made (exact decimal sums, rounded once, half away from zero, to 7 decimals).
/// </summary>
public sealed class UsageSumsTests
{
    private static readonly DateOnly D1 = new(2026, 3, 1);

    /// <summary>Three days, two spellings of one model, two apps, two users; costs whose rounding differs between summing first and rounding first.</summary>
    private static List<UsageEvent> Events()
    {
        var events = new List<UsageEvent>();
        for (var i = 0; i < 30; i++)
        {
            var day = D1.AddDays(i % 3);
            var (provider, model) = (i % 4) switch
            {
                0 => ("openai", "gpt-4o"),
                1 => (" OpenAI", "GPT-4o "),
                2 => ("anthropic", "claude-3-5-sonnet"),
                _ => ("langgenius/anthropic/anthropic", "claude-3-5-sonnet"),
            };
            events.Add(DeliveryHarness.Event(day, provider, model, 100 + i, 10 + i, 0.00000015m * (i + 1), app: i % 2 == 0 ? "a" : "b", user: i % 5 == 0 ? "u1" : "u2"));
        }

        return events;
    }

    private static decimal Round(decimal value) => Math.Round(value, 7, MidpointRounding.AwayFromZero);

    [Fact]
    public async Task Daily_totals_breakdown_and_rollup_agree_with_sums_computed_from_the_events()
    {
        var events = Events();
        // Independent expectations: per day, all models together.
        var perDay = events.GroupBy(e => e.UsageDate).OrderBy(g => g.Key)
            .Select(g => (Day: g.Key, In: g.Sum(e => e.InputTokens), Out: g.Sum(e => e.OutputTokens), N: (long)g.Count(), Cost: Round(g.Sum(e => e.Cost))))
            .ToList();

        var daily = DailyAggregator.Aggregate(events);
        var rollup = (await UsageRollup.BuildAsync(events.ToAsyncEnumerable(), [[UsageDimension.Day], [UsageDimension.Day, UsageDimension.Model]], TestContext.Current.CancellationToken));
        var breakdown = await UsageBreakdown.BuildAsync(events.ToAsyncEnumerable(), d => ReportPeriods.Label(d, DifyUsageExporter.Configuration.AggregationPeriod.Daily), null, TestContext.Current.CancellationToken);

        daily.Count.ShouldBe(6, "two normalised models per day");
        rollup[0].Select(r => (r.Day!.Value, r.InputTokens, r.OutputTokens, r.Requests, r.Cost)).ShouldBe(perDay.Select(p => (p.Day, p.In, p.Out, p.N, p.Cost)));
        breakdown.Workspace.Select(w => (w.InputTokens, w.OutputTokens, w.RequestCount, w.Cost)).ShouldBe(perDay.Select(p => (p.In, p.Out, p.N, p.Cost)));
        foreach (var p in perDay)
        {
            var ofDay = daily.Where(t => t.Key.UsageDate == p.Day).ToList();
            (ofDay.Sum(t => t.InputTokens), ofDay.Sum(t => t.OutputTokens), ofDay.Sum(t => t.RequestCount)).ShouldBe((p.In, p.Out, p.N));
        }

        // Per day and model: the daily totals are the rollup by day and model, key for key.
        daily.Select(t => (t.Key.UsageDate, t.Key.Provider, t.Key.Model, t.InputTokens, t.OutputTokens, t.RequestCount, t.Cost))
            .ShouldBe(rollup[1].Select(r => (r.Day!.Value, r.Provider!, r.Model!, r.InputTokens, r.OutputTokens, r.Requests, r.Cost)));
        var gpt = events.Where(e => e.UsageDate == D1 && e.Model.Trim().Equals("gpt-4o", StringComparison.OrdinalIgnoreCase)).ToList();
        daily.Single(t => t.Key == new DailyKey(D1, "openai", "gpt-4o")).Cost.ShouldBe(Round(gpt.Sum(e => e.Cost)));
    }

    [Fact]
    public void A_group_rounds_its_exact_sum_once_and_names_its_most_frequent_currency()
    {
        var sum = new UsageSum();
        sum.Add(1, 2, 0.00000005m, "usd");
        sum.Add(3, 4, 0.00000010m, " ");
        sum.Add(5, 6, 0.00000000m, "JPY");

        (sum.InputTokens, sum.OutputTokens, sum.Requests).ShouldBe((9L, 12L, 3L));
        sum.Cost.ShouldBe(0.00000015m);
        sum.RoundedCost.ShouldBe(0.0000002m);
        sum.Currencies.ShouldBe(["USD", "JPY"]);
    }
}
