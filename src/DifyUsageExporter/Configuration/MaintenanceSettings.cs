using System.Globalization;

namespace DifyUsageExporter.Configuration;

/// <summary>Reads of the backup, retention and alert variables that VariableReader has no form for.</summary>
internal static class MaintenanceSettings
{
    /// <summary>A positive decimal threshold (or whole number), null when unset; money is never a double.</summary>
    public static decimal? Threshold(VariableReader r, string name, string accepted, bool wholeNumber = false)
    {
        var text = r.Text(name);
        if (text is null)
        {
            return null;
        }

        var styles = wholeNumber ? NumberStyles.None : NumberStyles.AllowDecimalPoint;
        if (!decimal.TryParse(text, styles, CultureInfo.InvariantCulture, out var value) || value <= 0 || (wholeNumber && value > long.MaxValue))
        {
            r.Problem(name, $"{r.Show(name)} is not a positive {(wholeNumber ? "whole number" : "amount")}.", accepted);
            return null;
        }

        return value;
    }

    /// <summary>Alerts are sent through the notification webhook, so they need it.</summary>
    public static void CheckAlerts(VariableReader r, ExporterSettings s)
    {
        foreach (var (name, set) in new[] { ("ALERT_DAILY_COST", s.AlertDailyCost is not null), ("ALERT_DAILY_TOKENS", s.AlertDailyTokens is not null) })
        {
            if (set && s.NotifyWebhookUrl is null)
            {
                r.Problem(name, "is set but NOTIFY_WEBHOOK_URL is not, so the alert could not be sent anywhere.", "set NOTIFY_WEBHOOK_URL (or NOTIFY_WEBHOOK_URL_FILE) to a Slack or Discord webhook, or leave the alert unset.");
            }
        }
    }
}
