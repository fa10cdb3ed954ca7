using System.Text.Json;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using Microsoft.AspNetCore.Mvc;

namespace DifyUsageExporter.Web;

/// <summary>
/// The one place where the daemon's HTTP endpoints are mapped: GET /health (JSON; 200 or 503) and
/// GET /metrics (Prometheus text). Add new endpoints here; their dependencies come from the
/// daemon host's services (see Hosting/DaemonHost.cs).
/// </summary>
public static class StatusEndpoints
{
    // [FromServices] everywhere: CronSchedule has a TryParse that minimal APIs would take for a binder.
    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        LoadGauges(app.Services.GetRequiredService<StateStore>());
        app.MapGet("/health", async ([FromServices] CycleStatus status, [FromServices] StateStore store, [FromServices] CronSchedule cron, [FromServices] TimeProvider time, CancellationToken ct) =>
        {
            var report = await HealthReport.WithStateAsync(HealthReport.Build(status, store, cron, time), store, ct);
            return Results.Json(report, WebJson.Default.HealthReport, statusCode: report.HttpStatus);
        });
        app.MapGet("/metrics", ([FromServices] PrometheusMetrics metrics, [FromServices] CycleStatus status, [FromServices] StateStore store, [FromServices] TimeProvider time) =>
            Results.Text(metrics.Render(status, store, time), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapDashboard(app.Services.GetRequiredService<DashboardContext>());
    }

    // The reconcile and unknown-mode gauges start from what the store kept, so /metrics survives a
    // restart; an unusable store is reported by /health itself, not here.
    private static void LoadGauges(StateStore store)
    {
        try
        {
            HealthReport.LoadGaugesAsync(store, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is StoreException or System.Data.Common.DbException or JsonException)
        {
            // Nothing to restore: the gauges stay empty until the next reconcile.
        }
    }
}
