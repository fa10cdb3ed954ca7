using System.Text.Json;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Web;

/// <summary>
/// The one place where the daemon's HTTP endpoints are mapped: GET /health (JSON; 200 or 503) and
/// GET /metrics (Prometheus text). Add new endpoints here; their dependencies come from the
/// daemon host's services (see Hosting/DaemonHost.cs).
/// </summary>
public static class StatusEndpoints
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new UtcInstantJsonConverter() } };

    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/health", (CycleStatus status, SqliteStore store, TimeProvider time) =>
        {
            var report = HealthReport.Build(status, store, time);
            return Results.Json(report, Json, statusCode: report.Status == HealthReport.Healthy ? 200 : 503);
        });
        app.MapGet("/metrics", (PrometheusMetrics metrics, CycleStatus status, TimeProvider time) =>
            Results.Text(metrics.Render(status, time), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapDashboard(app.Services.GetRequiredService<DashboardContext>());
    }
}
