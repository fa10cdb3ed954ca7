using System.Globalization;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Sync;

/// <summary>
/// ALERT_DAILY_COST / ALERT_DAILY_TOKENS: after each extraction, the ledger totals of the last three
/// local days (today, so an alert comes while the day runs; yesterday and the day before, for a
/// cycle that runs once a night) are compared with the thresholds; a day that reached one is
/// notified through NOTIFY_WEBHOOK_URL once per day and threshold (remembered in the store only
/// after the webhook accepted it, so a failed post is retried by the next cycle). Older days never
/// alert: a first run over months of history must not send a flood.
/// </summary>
public sealed class CostAlerts(ExporterSettings settings, StateStore store, WebhookNotifier notifier, TimeProvider time, ILogger logger)
{
    public const string CostMetric = "cost";
    public const string TokensMetric = "tokens";

    /// <summary>Checks the days of <paramref name="from"/>..<paramref name="to"/> that are among the last three local days; returns the alerts sent.</summary>
    public async Task<int> CheckAsync(TimeZoneInfo zone, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        if ((settings.AlertDailyCost is null && settings.AlertDailyTokens is null) || !notifier.Enabled)
        {
            return 0;
        }

        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).DateTime);
        var first = from > today.AddDays(-2) ? from : today.AddDays(-2);
        var last = to < today ? to : today;
        if (first > last)
        {
            return 0;
        }

        var days = new SortedDictionary<DateOnly, DayUsage>();
        await foreach (var e in store.ReadEventsAsync(first, last, cancellationToken).ConfigureAwait(false))
        {
            if (!days.TryGetValue(e.UsageDate, out var day))
            {
                days[e.UsageDate] = day = new DayUsage();
            }

            day.Add(e);
        }

        var sent = 0;
        foreach (var (date, day) in days)
        {
            if (settings.AlertDailyCost is { } cost && day.Cost >= cost)
            {
                sent += await AlertAsync(date, zone, CostMetric, cost, day.Cost, day, cancellationToken).ConfigureAwait(false);
            }

            if (settings.AlertDailyTokens is { } tokens && day.Tokens >= tokens)
            {
                sent += await AlertAsync(date, zone, TokensMetric, tokens, day.Tokens, day, cancellationToken).ConfigureAwait(false);
            }
        }

        return sent;
    }

    /// <summary>The notification text (Slack <c>text</c> / Discord <c>content</c>).</summary>
    internal static string Message(DateOnly date, TimeZoneInfo zone, string metric, decimal threshold, decimal total, DayUsage day, bool dayOver)
    {
        var byCost = metric == CostMetric;
        string Amount(decimal value) => byCost ? $"{Money(value)} {day.Currency}" : $"{value.ToString("N0", CultureInfo.InvariantCulture)} tokens";
        string Top(Dictionary<string, (decimal Cost, long Tokens)> parts) => string.Join("; ", parts
            .OrderByDescending(p => byCost ? p.Value.Cost : p.Value.Tokens).ThenBy(p => p.Key, StringComparer.Ordinal).Take(3)
            .Select(p => $"{p.Key} {Money(p.Value.Cost)} {day.Currency}, {p.Value.Tokens.ToString("N0", CultureInfo.InvariantCulture)} tokens"));
        var variable = byCost ? "ALERT_DAILY_COST" : "ALERT_DAILY_TOKENS";
        return $"Cost alert: usage day {Iso.Day(date)} ({zone.Id}) reached {Amount(total)}{(dayOver ? string.Empty : " so far")}, " +
               $"at or above {variable} = {Amount(threshold)}.\nTop models: {Top(day.Models)}\nTop apps: {Top(day.Apps)}";
    }

    private async Task<int> AlertAsync(DateOnly date, TimeZoneInfo zone, string metric, decimal threshold, decimal total, DayUsage day, CancellationToken cancellationToken)
    {
        if (await store.CostAlertSentAsync(date, metric, threshold, cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        var dayOver = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).DateTime) > date;
        var totalText = metric == CostMetric ? Money(total) : total.ToString(CultureInfo.InvariantCulture);
        if (!await notifier.NotifyAsync(NotificationKind.CostAlert, Message(date, zone, metric, threshold, total, day, dayOver), cancellationToken).ConfigureAwait(false))
        {
            MeteringLog.AlertNotSent(logger, Day(date), metric);
            return 0;
        }

        await store.RecordCostAlertAsync(date, metric, threshold, total, cancellationToken).ConfigureAwait(false);
        MeteringLog.AlertSent(logger, Day(date), metric, totalText, threshold.ToString(CultureInfo.InvariantCulture));
        return 1;
    }

    private static string Money(decimal value) => DailyAggregator.RoundCost(value).ToString("0.00#####", CultureInfo.InvariantCulture);

    private static string Day(DateOnly date) => Iso.Day(date);

    /// <summary>One local day's totals with the split by model and by app.</summary>
    internal sealed class DayUsage
    {
        private readonly Dictionary<string, int> currencies = new(StringComparer.Ordinal);

        public decimal Cost { get; private set; }

        public long Tokens { get; private set; }

        public Dictionary<string, (decimal Cost, long Tokens)> Models { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, (decimal Cost, long Tokens)> Apps { get; } = new(StringComparer.Ordinal);

        /// <summary>The most frequent currency of the day's events (as for API_Meter totals).</summary>
        public string Currency => currencies.Count == 0 ? "USD" : currencies.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).First().Key;

        public void Add(UsageEvent e)
        {
            var tokens = e.InputTokens + e.OutputTokens;
            Cost += e.Cost;
            Tokens += tokens;
            var model = $"{ProviderModelNormalizer.NormalizeProvider(e.Provider)}/{ProviderModelNormalizer.NormalizeModel(e.Model)}";
            Models[model] = (Models.GetValueOrDefault(model).Cost + e.Cost, Models.GetValueOrDefault(model).Tokens + tokens);
            var app = string.IsNullOrWhiteSpace(e.AppName) ? e.AppId : e.AppName;
            Apps[app] = (Apps.GetValueOrDefault(app).Cost + e.Cost, Apps.GetValueOrDefault(app).Tokens + tokens);
            var currency = string.IsNullOrWhiteSpace(e.Currency) ? "USD" : e.Currency.Trim().ToUpperInvariant();
            currencies[currency] = currencies.GetValueOrDefault(currency) + 1;
        }
    }
}
