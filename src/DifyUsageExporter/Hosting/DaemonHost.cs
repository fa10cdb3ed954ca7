using DifyUsageExporter.Configuration;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Web;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace DifyUsageExporter.Hosting;

/// <summary>What the daemon's host is built from: the objects the daemon opened and owns.</summary>
public sealed record DaemonParts(
    ExporterSettings Settings,
    CronSchedule Cron,
    StateStore Store,
    CycleStatus Status,
    CycleExecutor Executor,
    TimeProvider Time,
    ILoggerFactory Loggers,
    SecretRegistry Secrets);

/// <summary>
/// Builds the daemon's one generic host: the status server (when HEALTHCHECK_ENABLED; endpoints in
/// <see cref="StatusEndpoints"/>) and the <see cref="Scheduler"/> as a hosted service. The host owns
/// the signal path (SIGTERM/SIGINT/SIGQUIT through its console lifetime) and the shutdown timeout
/// (GRACEFUL_SHUTDOWN_TIMEOUT).
/// </summary>
public static class DaemonHost
{
    public static IHost Build(DaemonParts parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var settings = parts.Settings;
        if (!settings.HealthcheckEnabled)
        {
            var plain = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory, DisableDefaults = true });
            AddServices(plain.Services, plain.Logging, parts);
            return plain.Build();
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        AddServices(builder.Services, builder.Logging, parts);
        builder.WebHost.ConfigureKestrel(options => options.AddServerHeader = false);
        var host = settings.HealthcheckHost.Contains(':', StringComparison.Ordinal) ? $"[{settings.HealthcheckHost}]" : settings.HealthcheckHost;
        builder.WebHost.UseUrls($"http://{host}:{settings.HealthcheckPort}");
        var app = builder.Build();
        // Listen to the meters from the start, not from the first scrape.
        app.Services.GetRequiredService<PrometheusMetrics>();
        StatusEndpoints.Map(app);
        return app;
    }

    /// <summary>The address the status server listens on (with the real port when HEALTHCHECK_PORT was 0), or null without one.</summary>
    public static Uri? ListeningAddress(IHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var address = host.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        return address is null
            ? null
            : new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal));
    }

    private static void AddServices(IServiceCollection services, ILoggingBuilder logging, DaemonParts parts)
    {
        logging.ClearProviders();
        // Framework logs (Kestrel, hosting) go through the exporter's JSON Lines logger.
        services.AddSingleton(parts.Loggers);
        services.Configure<HostOptions>(options => options.ShutdownTimeout = parts.Settings.GracefulShutdownTimeout);
        services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true);
        services.AddSingleton(parts.Settings);
        services.AddSingleton(parts.Cron);
        services.AddSingleton(parts.Store);
        services.AddSingleton(parts.Status);
        services.AddSingleton(parts.Executor);
        services.AddSingleton(parts.Time);
        services.AddSingleton<PrometheusMetrics>();
        services.AddSingleton(new DashboardContext(parts.Settings.Dashboard, parts.Store, parts.Status, parts.Time, parts.Settings.UsageTimeZone, parts.Secrets, parts.Loggers));
        services.AddSingleton(provider => new Scheduler(
            parts.Cron,
            parts.Settings.RunOnStart,
            parts.Executor,
            parts.Status,
            parts.Store,
            parts.Time,
            parts.Loggers.CreateLogger<Scheduler>(),
            provider.GetRequiredService<IHostApplicationLifetime>())
        {
            GracefulTimeout = parts.Settings.GracefulShutdownTimeout,
        });
        services.AddHostedService(provider => provider.GetRequiredService<Scheduler>());
        services.AddHostedService(_ => new MaintenanceService(new MaintenanceJobs(parts.Settings, parts.Store, parts.Status.Maintenance, parts.Time, parts.Loggers.CreateLogger<MaintenanceJobs>())));
    }
}
