using System.Net;
using System.Text.Json;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace DifyUsageExporter.Web;

/// <summary>
/// The Kestrel server of the daemon: GET /health (200 healthy / 503 unhealthy) and GET /metrics
/// (Prometheus text). Signals are not handled here; the daemon owns shutdown.
/// </summary>
public sealed class HealthServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new UtcInstantJsonConverter() } };

    private readonly WebApplication app;
    private readonly PrometheusMetrics metrics = new();

    private HealthServer(WebApplication app) => this.app = app;

    /// <summary>The address the server listens on (with the real port when HEALTHCHECK_PORT was 0).</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1/");

    public static async Task<HealthServer> StartAsync(string host, int port, CycleStatus status, SqliteStore store, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken, DashboardContext? dashboard = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
        builder.WebHost.ConfigureKestrel(options => options.AddServerHeader = false);
        builder.WebHost.UseUrls($"http://{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}");
        var server = new HealthServer(builder.Build());
        server.app.MapGet("/health", () =>
        {
            var report = HealthReport.Build(status, store, time);
            return Results.Json(report, Json, statusCode: report.Status == HealthReport.Healthy ? 200 : 503);
        });
        server.app.MapGet("/metrics", () => Results.Text(server.metrics.Render(status, time), "text/plain; version=0.0.4; charset=utf-8"));
        if (dashboard is not null)
        {
            server.app.MapDashboard(dashboard);
        }
        await server.app.StartAsync(cancellationToken);
        var address = server.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (address is not null)
        {
            server.Address = new Uri(address.Replace("0.0.0.0", IPAddress.Loopback.ToString(), StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal));
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(stop.Token);
        await app.DisposeAsync();
        metrics.Dispose();
    }

    /// <summary>Keeps the web host from installing its own SIGTERM/Ctrl+C handling.</summary>
    private sealed class NoSignalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
