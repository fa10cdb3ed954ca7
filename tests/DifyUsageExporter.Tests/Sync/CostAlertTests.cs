using System.Text.Json;
using DifyUsageExporter.Sync;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>ALERT_DAILY_COST / ALERT_DAILY_TOKENS through a real loopback webhook receiver, over the real export cycle and store.</summary>
public sealed class CostAlertTests
{
    private static readonly DateOnly Today = new(2026, 3, 10); // the harness clock: 2026-03-10 12:00 UTC

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static List<string> Alerts(DeliveryHarness h) => h.Webhook!.Bodies
        .Select(b => JsonDocument.Parse(b).RootElement)
        .Select(e => e.GetProperty("text").GetString()!)
        .Where(t => t.Contains("Cost alert", StringComparison.Ordinal))
        .ToList();

    private static async Task CycleAsync(DeliveryHarness h) =>
        (await h.NewCycle().RunCycleAsync("schedule", "run-" + Guid.NewGuid().ToString("N")[..6], Ct)).Outcome.ShouldBe(CycleOutcome.Success);

    [Fact]
    public async Task Each_threshold_alerts_once_per_day_naming_the_day_the_total_and_the_top_three_models_and_apps()
    {
        await using var h = await DeliveryHarness.CreateAsync(webhook: true, configure: s => s with { AlertDailyCost = 1m, AlertDailyTokens = 5000 });
        h.Source.Events.Add(DeliveryHarness.Event(Today, "openai", "gpt-4o", 1000, 200, 0.5m, app: "support"));
        h.Source.Events.Add(DeliveryHarness.Event(Today, "anthropic", "claude-3-5-sonnet", 300, 100, 0.25m, app: "search"));
        h.Source.Events.Add(DeliveryHarness.Event(Today, "openai", "gpt-4o-mini", 50, 50, 0.05m, app: "summary"));
        h.Source.Events.Add(DeliveryHarness.Event(Today, "google", "gemini-2.0-flash", 10, 10, 0.01m, app: "tiny"));
        // Far above both thresholds, but 9 days ago: never alerted (no flood on a first run over history).
        h.Source.Events.Add(DeliveryHarness.Event(new DateOnly(2026, 3, 1), "openai", "gpt-4o", 900_000, 900_000, 99m));

        await CycleAsync(h);
        Alerts(h).ShouldBeEmpty(); // 0.81 USD and 1,720 tokens today

        h.Source.Events.Add(DeliveryHarness.Event(Today, "anthropic", "claude-3-5-sonnet", 100, 100, 0.3m, app: "search"));
        await CycleAsync(h);

        var cost = Alerts(h).ShouldHaveSingleItem();
        cost.ShouldStartWith("[dify-usage-exporter] Cost alert: usage day 2026-03-10 (UTC) reached 1.11 USD so far, at or above ALERT_DAILY_COST = 1.00 USD.");
        cost.ShouldContain("Top models: anthropic/claude-3-5-sonnet 0.55 USD, 600 tokens; openai/gpt-4o 0.50 USD, 1,200 tokens; openai/gpt-4o-mini 0.05 USD, 100 tokens\n");
        cost.ShouldContain("Top apps: search name 0.55 USD, 600 tokens; support name 0.50 USD, 1,200 tokens; summary name 0.05 USD, 100 tokens");
        cost.ShouldNotContain("gemini");

        // Still above: no second cost alert, even after a restart (remembered in the store).
        h.Source.Events.Add(DeliveryHarness.Event(Today, "openai", "gpt-4o", 2500, 1000, 0.2m, app: "support"));
        h.Restart();
        await CycleAsync(h);
        var alerts = Alerts(h);
        alerts.Count.ShouldBe(2);
        alerts[1].ShouldStartWith("[dify-usage-exporter] Cost alert: usage day 2026-03-10 (UTC) reached 5,420 tokens so far, at or above ALERT_DAILY_TOKENS = 5,000 tokens.");
        alerts[1].ShouldContain("Top models: openai/gpt-4o 0.70 USD, 4,700 tokens; anthropic/claude-3-5-sonnet 0.55 USD, 600 tokens; openai/gpt-4o-mini 0.05 USD, 100 tokens");

        await CycleAsync(h);
        Alerts(h).Count.ShouldBe(2);
        h.Logs.Lines.ShouldContain(l => l.Contains("Cost alert sent for 2026-03-10: tokens total 5420 reached 5000"));
    }
}
