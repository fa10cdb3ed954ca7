using DifyUsageExporter.Usage;
using Shouldly;
using Simulators.Meter;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>
/// The expected API_Meter state computed by the test from raw events with its own name table
/// (not the exporter's normaliser or aggregator): per (day, provider, model) the sums of tokens and
/// events, and the exact cost sum rounded half away from zero to 7 decimals.
/// </summary>
public static class Truth
{
    public static readonly IReadOnlyDictionary<string, string> Providers = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["openai"] = "openai",
        ["OpenAI"] = "openai",
        ["langgenius/openai/openai"] = "openai",
        ["anthropic"] = "anthropic",
        [" Anthropic "] = "anthropic",
        ["langgenius/anthropic/anthropic"] = "anthropic",
        [""] = "unknown",
    };

    public static readonly IReadOnlyDictionary<string, string> Models = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["gpt-4o"] = "gpt-4o",
        ["GPT-4o "] = "gpt-4o",
        ["gpt-4o-mini"] = "gpt-4o-mini",
        ["bad-model"] = "bad-model",
        ["claude-3-5-sonnet"] = "claude-3-5-sonnet",
        ["Claude-3-5-Sonnet"] = "claude-3-5-sonnet",
        [""] = "unknown",
    };

    public sealed record Row(long Input, long Output, long Count, decimal Cost);

    public static Dictionary<(string Date, string Provider, string Model), Row> Expected(IEnumerable<UsageEvent> events, Func<DateOnly, bool>? include = null)
    {
        var sums = new Dictionary<(string, string, string), (long In, long Out, long N, decimal Cost)>();
        foreach (var e in events)
        {
            if (include is not null && !include(e.UsageDate))
            {
                continue;
            }

            var key = (e.UsageDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), Providers[e.Provider], Models[e.Model]);
            sums.TryGetValue(key, out var s);
            sums[key] = (s.In + e.InputTokens, s.Out + e.OutputTokens, s.N + 1, s.Cost + e.Cost);
        }

        return sums.ToDictionary(kv => kv.Key, kv => new Row(kv.Value.In, kv.Value.Out, kv.Value.N, Math.Round(kv.Value.Cost, 7, MidpointRounding.AwayFromZero)));
    }

    /// <summary>The server holds exactly the expected rows for the tenant, with consistent totals.</summary>
    public static void ServerShouldEqual(FakeApiMeter meter, IEnumerable<UsageEvent> events, Func<DateOnly, bool>? include = null)
    {
        var expected = Expected(events, include);
        var rows = meter.Rows().Where(r => r.TenantId == DeliveryHarness.Tenant.ToString()).Where(r => r.RequestCount > 0 || r.TotalTokens > 0).ToList();
        rows.Select(r => (r.UsageDate, r.Provider, r.Model)).OrderBy(k => k).ShouldBe(expected.Keys.OrderBy(k => k));
        foreach (var row in rows)
        {
            var want = expected[(row.UsageDate, row.Provider, row.Model)];
            row.InputTokens.ShouldBe(want.Input, $"{row.UsageDate} {row.Provider} {row.Model} input");
            row.OutputTokens.ShouldBe(want.Output, $"{row.UsageDate} {row.Provider} {row.Model} output");
            row.TotalTokens.ShouldBe(want.Input + want.Output);
            row.RequestCount.ShouldBe(want.Count, $"{row.UsageDate} {row.Provider} {row.Model} request_count");
            row.CostActual.ShouldBe(want.Cost, $"{row.UsageDate} {row.Provider} {row.Model} cost");
            row.Currency.ShouldBe("USD");
        }
    }
}
