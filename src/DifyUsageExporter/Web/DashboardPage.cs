using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Web;

/// <summary>
/// Renders the dashboard as one self-contained HTML page: inline CSS, inline SVG charts, no script,
/// nothing loaded from elsewhere (works offline, readable on a phone). Every value from Dify or the
/// store is HTML-encoded.
/// </summary>
internal static class DashboardPage
{
    private const int TableRows = 100;
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Render(DashboardModel m)
    {
        var html = new StringBuilder(32_768);
        var q = m.Query;
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html.Append("<title>Dify usage · dify-usage-exporter</title><style>").Append(DashboardStyle.Css).Append("</style></head><body>");
        html.Append(Invariant, $"<header><h1>Dify usage</h1><p class=\"sub\">{Day(q.From)} to {Day(q.To)} · usage days in {E(m.Zone.Id)} · dify-usage-exporter {E(Version)}</p>");
        html.Append(StatusLine(m)).Append("</header>");
        html.Append(Invariant, $"<form method=\"get\" action=\"/\" class=\"range\"><label>From <input type=\"date\" name=\"from\" value=\"{Day(q.From)}\"></label>");
        html.Append(Invariant, $"<label>To <input type=\"date\" name=\"to\" value=\"{Day(q.To)}\"></label><button type=\"submit\">Show</button>");
        var today = UsageTime.LocalDate(m.Now, m.Zone);
        foreach (var days in new[] { 7, 30, 90 })
        {
            html.Append(Invariant, $"<a href=\"/?from={Day(today.AddDays(1 - days))}&amp;to={Day(today)}\">last {days} days</a>");
        }

        html.Append("</form>");
        if (m.Error is not null)
        {
            html.Append(Invariant, $"<p class=\"error\" role=\"alert\">{E(m.Error)} Showing the default range instead.</p>");
        }

        Totals(html, m);
        Charts(html, m);
        html.Append("<h2>Per day</h2>");
        Table(html, "days", ["Day"], m.Days.OrderByDescending(r => r.Day).ToList(), r => [Day(r.Day!.Value)], r => $" data-day=\"{Day(r.Day!.Value)}\"");
        html.Append("<h2>By model</h2>");
        Table(html, "models", ["Provider", "Model"], m.Models, r => [r.Provider!, r.Model!], _ => string.Empty);
        html.Append("<h2>By app</h2>");
        Table(html, "apps", ["App", "App id"], m.Apps, r => [r.AppName!, r.AppId!], _ => string.Empty);
        html.Append("<h2>By user</h2>");
        Table(html, "users", ["User", "Type"], m.Users, r => [r.UserId!, r.UserType!], _ => string.Empty);
        DashboardStatusSections.Cycles(html, m);
        DashboardStatusSections.Spool(html, m);
        DashboardStatusSections.Reconcile(html, m.ReconcileJson);
        html.Append(Invariant, $"<footer>JSON: <a href=\"/api/usage?from={Day(q.From)}&amp;to={Day(q.To)}&amp;by=day,model\">/api/usage</a> · <a href=\"/api/cycles\">/api/cycles</a> · <a href=\"/metrics\">/metrics</a> · rendered {Instant(m.Now)}</footer>");
        return html.Append("</body></html>").ToString();
    }

    internal static string E(string? text) => WebUtility.HtmlEncode(text ?? string.Empty);

    internal static string Day(DateOnly day) => Iso.Day(day);

    internal static string Instant(DateTimeOffset? at) => at is { } v ? v.ToUniversalTime().ToString(Iso.DayFormat + " HH:mm:ss'Z'", Invariant) : "—";

    internal static string Tokens(long value) => value.ToString("N0", Invariant);

    internal static string Cost(decimal value) => value.ToString("0.00#####", Invariant);

    private static string Version =>
        typeof(DashboardPage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?";

    private static string StatusLine(DashboardModel m)
    {
        var s = m.Status;
        var state = s.Running ? "<b class=\"running\">a cycle is running</b>" : $"last cycle: {E(s.LastOutcome ?? "none yet")}";
        return $"<p class=\"sub\">{state} · last success {Instant(s.LastSuccess)} · next run {Instant(s.NextRun)}</p>";
    }

    private static void Totals(StringBuilder html, DashboardModel m)
    {
        html.Append("<section class=\"cards\">");
        var input = m.Days.Sum(r => r.InputTokens);
        var output = m.Days.Sum(r => r.OutputTokens);
        html.Append(Invariant, $"<div class=\"card\"><span>Tokens</span><b id=\"total-tokens\">{Tokens(input + output)}</b><small>{Tokens(input)} in · {Tokens(output)} out</small></div>");
        html.Append(Invariant, $"<div class=\"card\"><span>Requests</span><b id=\"total-requests\">{Tokens(m.Days.Sum(r => r.Requests))}</b><small>model invocations</small></div>");
        foreach (var currency in m.Days.GroupBy(r => r.Currency).OrderByDescending(g => g.Count()))
        {
            html.Append(Invariant, $"<div class=\"card\"><span>Cost</span><b class=\"total-cost\">{Cost(currency.Sum(r => r.Cost))} {E(currency.Key)}</b><small>as priced by Dify</small></div>");
        }

        html.Append("</section>");
    }

    private static void Charts(StringBuilder html, DashboardModel m)
    {
        var q = m.Query;
        var byDay = m.Days.GroupBy(r => r.Day!.Value).ToDictionary(g => g.Key, g => g.ToList());
        var currency = m.Days.GroupBy(r => r.Currency).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault() ?? "USD";
        var days = Enumerable.Range(0, q.To.DayNumber - q.From.DayNumber + 1).Select(q.From.AddDays).ToList();
        var tokenBars = days.Select(d =>
        {
            var rows = byDay.GetValueOrDefault(d) ?? [];
            long input = rows.Sum(r => r.InputTokens), output = rows.Sum(r => r.OutputTokens);
            return new SvgBarChart.Bar(d, input, output, $"{Day(d)}: {Tokens(input + output)} tokens ({Tokens(input)} in, {Tokens(output)} out)");
        }).ToList();
        var costBars = days.Select(d =>
        {
            var cost = (byDay.GetValueOrDefault(d) ?? []).Where(r => r.Currency == currency).Sum(r => r.Cost);
            return new SvgBarChart.Bar(d, cost, 0, $"{Day(d)}: {Cost(cost)} {currency}");
        }).ToList();
        html.Append("<section class=\"charts\"><figure><figcaption>Tokens per day <i class=\"key in\"></i> input <i class=\"key out\"></i> output</figcaption>");
        html.Append(SvgBarChart.Render("tokens-chart", "Tokens per day", tokenBars, v => Compact(v), "in", "out"));
        html.Append(Invariant, $"</figure><figure><figcaption>Cost per day ({E(currency)})</figcaption>");
        html.Append(SvgBarChart.Render("cost-chart", $"Cost per day in {currency}", costBars, v => Cost(v), "cost", "cost"));
        html.Append("</figure></section>");
    }

    private static void Table(StringBuilder html, string id, string[] heads, IReadOnlyList<UsageRollupRow> rows, Func<UsageRollupRow, string[]> cells, Func<UsageRollupRow, string> attributes)
    {
        if (rows.Count == 0)
        {
            html.Append(Invariant, $"<p class=\"empty\" id=\"{id}-empty\">No usage in the ledger for these days.</p>");
            return;
        }

        html.Append(Invariant, $"<div class=\"scroll\"><table id=\"{id}\"><thead><tr>");
        foreach (var head in heads)
        {
            html.Append(Invariant, $"<th>{head}</th>");
        }

        html.Append("<th class=\"num\">Input</th><th class=\"num\">Output</th><th class=\"num\">Tokens</th><th class=\"num\">Requests</th><th class=\"num\">Cost</th></tr></thead><tbody>");
        foreach (var row in rows.Take(TableRows))
        {
            html.Append(Invariant, $"<tr{attributes(row)}>");
            foreach (var cell in cells(row))
            {
                html.Append(Invariant, $"<td>{E(cell)}</td>");
            }

            html.Append(Invariant, $"<td class=\"num\">{Tokens(row.InputTokens)}</td><td class=\"num\">{Tokens(row.OutputTokens)}</td><td class=\"num tokens\">{Tokens(row.TotalTokens)}</td>");
            html.Append(Invariant, $"<td class=\"num requests\">{Tokens(row.Requests)}</td><td class=\"num cost\">{Cost(row.Cost)} {E(row.Currency)}</td></tr>");
        }

        html.Append("</tbody></table></div>");
        if (rows.Count > TableRows)
        {
            html.Append(Invariant, $"<p class=\"note\">{rows.Count - TableRows} more rows: see <code>/api/usage?by={id.TrimEnd('s')}</code>.</p>");
        }
    }

    private static string Compact(decimal value) => value switch
    {
        >= 1_000_000_000 => (value / 1_000_000_000).ToString("0.#", Invariant) + "G",
        >= 1_000_000 => (value / 1_000_000).ToString("0.#", Invariant) + "M",
        >= 1_000 => (value / 1_000).ToString("0.#", Invariant) + "k",
        _ => value.ToString("0", Invariant),
    };
}
