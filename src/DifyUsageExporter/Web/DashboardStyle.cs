namespace DifyUsageExporter.Web;

/// <summary>The dashboard's stylesheet, inlined into the page (nothing is fetched from elsewhere).</summary>
internal static class DashboardStyle
{
    public const string Css = """
        :root{--fg:#1d2430;--muted:#5d6878;--bg:#f6f7f9;--card:#fff;--line:#dde1e7;--in:#3b6fd8;--out:#9bb7ef;--cost:#2f9e6e;--bad:#c0392b;--warn:#b7791f;--good:#2f855a}
        @media (prefers-color-scheme:dark){:root{--fg:#e6e9ee;--muted:#9aa5b4;--bg:#14181f;--card:#1c222b;--line:#2e3643;--in:#6f9bf2;--out:#34508a;--cost:#45b985}}
        *{box-sizing:border-box}body{margin:0 auto;max-width:1100px;padding:12px 16px 32px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        h1{font-size:1.5rem;margin:8px 0 2px}h2{font-size:1.1rem;margin:28px 0 8px}.sub{color:var(--muted);margin:2px 0}
        form.range{display:flex;flex-wrap:wrap;gap:8px 12px;align-items:end;margin:14px 0}form.range label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}
        input,button{font:inherit;padding:6px 8px;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--fg)}button{cursor:pointer;background:var(--in);color:#fff;border-color:var(--in)}
        form.range a{font-size:.9rem}a{color:var(--in)}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:10px}.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px;display:flex;flex-direction:column}
        .card span{color:var(--muted);font-size:.85rem}.card b{font-size:1.35rem;font-variant-numeric:tabular-nums}.card small{color:var(--muted)}
        .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:10px;margin-top:10px}figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px}
        figcaption{font-size:.9rem;color:var(--muted);margin-bottom:4px}.key{display:inline-block;width:10px;height:10px;margin:0 2px 0 8px}.key.in{background:var(--in)}.key.out{background:var(--out)}
        svg.chart{width:100%;height:auto;display:block}svg .in{fill:var(--in)}svg .out{fill:var(--out)}svg .cost{fill:var(--cost)}svg .axis,svg .grid{stroke:var(--line)}svg text{fill:var(--muted);font-size:20px}
        .scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}table{border-collapse:collapse;width:100%;font-size:.9rem}
        th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}th{color:var(--muted);font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
        td.summary{white-space:normal;min-width:16em;color:var(--muted)}tbody tr:last-child td{border-bottom:0}
        .badge{padding:1px 8px;border-radius:10px;font-size:.8rem;color:#fff;background:var(--muted)}.badge.good{background:var(--good)}.badge.warn{background:var(--warn)}.badge.bad{background:var(--bad)}
        .good{color:var(--good)}.bad{color:var(--bad)}.badge.good,.badge.warn,.badge.bad{color:#fff}.error{background:var(--bad);color:#fff;padding:8px 12px;border-radius:6px}.empty,.note{color:var(--muted)}
        footer{margin-top:32px;color:var(--muted);font-size:.85rem}code{font-size:.85em}
        """;
}
