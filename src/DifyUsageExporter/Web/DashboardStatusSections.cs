using System.Globalization;
using System.Text;
using DifyUsageExporter.Storage;

namespace DifyUsageExporter.Web;

/// <summary>The operational sections of the dashboard: recent cycles, the spool and dead letters, reconcile.</summary>
internal static class DashboardStatusSections
{
    private const int SummaryLength = 240;
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Cycles(StringBuilder html, DashboardModel m)
    {
        html.Append("<h2>Last cycles</h2>");
        if (m.Cycles.Count == 0)
        {
            html.Append("<p class=\"empty\">No export cycle has run yet.</p>");
            return;
        }

        html.Append("<div class=\"scroll\"><table id=\"cycles\"><thead><tr><th>Started (UTC)</th><th>Trigger</th><th>Outcome</th><th class=\"num\">Duration</th><th>Summary</th></tr></thead><tbody>");
        foreach (var c in m.Cycles)
        {
            var outcome = c.Outcome ?? "running";
            var duration = c.FinishedAt is { } end ? $"{(end - c.StartedAt).TotalSeconds.ToString("0.0", Invariant)} s" : "—";
            var summary = c.Summary ?? string.Empty;
            var shortSummary = summary.Length > SummaryLength ? summary[..SummaryLength] + "…" : summary;
            html.Append(Invariant, $"<tr><td>{DashboardPage.Instant(c.StartedAt)}</td><td>{DashboardPage.E(c.Trigger)}</td><td><span class=\"badge {Css(outcome)}\">{DashboardPage.E(outcome)}</span></td>");
            html.Append(Invariant, $"<td class=\"num\">{duration}</td><td class=\"summary\" title=\"{DashboardPage.E(summary)}\">{DashboardPage.E(shortSummary)}</td></tr>");
        }

        html.Append("</tbody></table></div>");
    }

    public static void Spool(StringBuilder html, DashboardModel m)
    {
        var dead = m.Spool.Where(b => b.Status == OutboxRow.Dead).ToList();
        var pending = m.Spool.Where(b => b.Status != OutboxRow.Dead).ToList();
        html.Append(Invariant, $"<h2>Spool and dead letters</h2><p id=\"spool-summary\">{pending.Sum(b => b.Records)} records in {pending.Count} batches wait for delivery · <span class=\"{(dead.Count > 0 ? "bad" : "good")}\">{dead.Sum(b => b.Records)} records in {dead.Count} dead-letter batches</span></p>");
        if (m.Spool.Count == 0)
        {
            return;
        }

        html.Append("<div class=\"scroll\"><table id=\"spool\"><thead><tr><th>Batch</th><th>Target</th><th>Status</th><th class=\"num\">Records</th><th>Days</th><th class=\"num\">Failed cycles</th><th>Last error</th></tr></thead><tbody>");
        foreach (var b in m.Spool)
        {
            html.Append(Invariant, $"<tr><td><code>{DashboardPage.E(b.BatchId)}</code></td><td>{DashboardPage.E(b.Target)}</td><td><span class=\"badge {Css(b.Status)}\">{DashboardPage.E(b.Status)}</span></td>");
            html.Append(Invariant, $"<td class=\"num\">{b.Records}</td><td>{DashboardPage.Day(b.FirstDay)}..{DashboardPage.Day(b.LastDay)}</td><td class=\"num\">{b.FailedCycles}</td><td class=\"summary\">{DashboardPage.E(b.LastError ?? "—")}</td></tr>");
        }

        html.Append("</tbody></table></div>");
        if (dead.Count > 0)
        {
            html.Append("<p class=\"note\">Dead letters wait for an operator: <code>dify-usage-exporter spool resend &lt;batch&gt;</code> after fixing the cause, or <code>spool discard &lt;batch&gt;</code>.</p>");
        }
    }

    /// <summary>The latest reconcile (docs/usage-semantics.md §5): its verdict and the unexplained rows.</summary>
    public static void Reconcile(StringBuilder html, string? json)
    {
        html.Append("<h2>Reconcile</h2>");
        if (json is null)
        {
            html.Append("<p id=\"reconcile\" class=\"empty\">No reconcile yet.</p>");
            return;
        }

        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var root = doc.RootElement;
        string Text(System.Text.Json.JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.ToString() : string.Empty;
        var ok = root.TryGetProperty("ok", out var okValue) && okValue.ValueKind == System.Text.Json.JsonValueKind.True;
        html.Append(CultureInfo.InvariantCulture, $"<p id=\"reconcile\" class=\"{(ok ? "good" : "bad")}\">{(ok ? "Every difference explained" : "Unexplained differences")}: {DashboardPage.E(Text(root, "from"))} to {DashboardPage.E(Text(root, "to"))}, {DashboardPage.E(Text(root, "rows_checked"))} app-days checked, {DashboardPage.E(Text(root, "unexplained_rows"))} unexplained ({DashboardPage.E(Text(root, "unexplained_tokens"))} tokens), checked {DashboardPage.E(Text(root, "checked_at"))}.</p>");
        if (root.TryGetProperty("rows", out var rows) && rows.ValueKind == System.Text.Json.JsonValueKind.Array)
        {
            var unexplained = rows.EnumerateArray().Where(r => Text(r, "status") is "unexplained" or "error").ToList();
            if (unexplained.Count > 0)
            {
                html.Append("<table id=\"reconcile-rows\"><tr><th>App</th><th>Day</th><th>Ours</th><th>Dify</th><th>Status</th></tr>");
                foreach (var r in unexplained)
                {
                    html.Append(CultureInfo.InvariantCulture, $"<tr><td>{DashboardPage.E(Text(r, "app"))}</td><td>{DashboardPage.E(Text(r, "date"))}</td><td>{DashboardPage.E(Text(r, "our_tokens"))}</td><td>{DashboardPage.E(Text(r, "dify_tokens"))}</td><td>{DashboardPage.E(Text(r, "status"))}</td></tr>");
                }

                html.Append("</table>");
            }
        }
    }

    private static string Css(string outcome) => outcome switch
    {
        "success" => "good",
        "spooled" or "pending" or "running" => "warn",
        _ => "bad",
    };
}
