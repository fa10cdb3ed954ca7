using System.Reflection;
using DifyUsageExporter.Cli;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Telemetry;
using DifyUsageExporter.Web;

namespace DifyUsageExporter.Hosting;

/// <summary>
/// <c>run</c>: validates the configuration, opens the store, then either runs one cycle
/// (<c>--once</c>) or starts the scheduler and the health server until SIGTERM/SIGINT. Logs JSON
/// Lines to <see cref="CommandEnvironment.Out"/>. Returns the process exit code.
/// </summary>
public sealed class Daemon(CommandEnvironment env, CycleRunnerFactory runnerFactory)
{
    /// <summary>Called once the health server listens (tests read the real port from it).</summary>
    public Action<Uri>? HealthListening { get; init; }

    public async Task<int> RunAsync(bool once, CancellationToken stopSignal)
    {
        var snapshot = env.InspectConfiguration();
        var settings = snapshot.Settings;
        using var loggers = env.CreateLoggerFactory(settings ?? new ExporterSettings(), env.Out);
        var logger = loggers.CreateLogger<Daemon>();
        HostingLog.Starting(logger, Version, once ? "one cycle" : "daemon");
        if (settings is null)
        {
            snapshot.Problems.ToList().ForEach(p => HostingLog.ConfigurationProblem(logger, p));
            HostingLog.ConfigurationInvalid(logger, snapshot.Problems.Count);
            return ExitCodes.Failure;
        }

        LogConfiguration(logger, snapshot);
        SqliteStore store;
        try
        {
            store = SqliteStore.Open(settings.DataDir, env.Time);
        }
        catch (StoreException ex)
        {
            HostingLog.StoreUnusable(logger, ex.Message);
            return ExitCodes.Failure;
        }

        using (store)
        {
            var status = new CycleStatus { StartedAt = env.Time.GetUtcNow() };
            var last = store.ReadLastCycle();
            status.Restore(last?.StartedAt, last?.FinishedAt, last?.Outcome, store.ReadLastCycleWithOutcome("success")?.FinishedAt);
            // OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set; disposed (flushed) last, after the cycle.
            using var telemetry = OtlpTelemetry.Start(settings.Otlp, Version, status, env.Time, loggers);
            var runner = runnerFactory(settings, store, loggers, env);
            using var ownedRunner = runner as IDisposable;
            var executor = new CycleExecutor(runner, store, status, env.Time, loggers.CreateLogger<CycleExecutor>());
            var code = once
                ? await RunOnceAsync(settings, executor, logger, stopSignal)
                : await RunDaemonAsync(settings, store, executor, status, loggers, logger, stopSignal);
            HostingLog.Stopped(logger, code);
            return code;
        }
    }

    private static string Version =>
        typeof(Daemon).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?";

    private static void LogConfiguration(ILogger logger, ConfigurationSnapshot snapshot)
    {
        HostingLog.Configuration(logger, snapshot.MaskedDump());
        snapshot.Warnings.ToList().ForEach(w => HostingLog.ConfigurationWarning(logger, w));
        snapshot.Notes.ToList().ForEach(n => HostingLog.ConfigurationNote(logger, n));
        if (snapshot.Settings?.DifyTlsInsecure == true)
        {
            HostingLog.TlsInsecure(logger);
        }
    }

    private async Task<int> RunOnceAsync(ExporterSettings settings, CycleExecutor executor, ILogger logger, CancellationToken stopSignal)
    {
        // A signal lets the cycle finish within GRACEFUL_SHUTDOWN_TIMEOUT, then cancels it.
        using var grace = new CancellationTokenSource(Timeout.InfiniteTimeSpan, env.Time);
        using var onSignal = stopSignal.Register(() => grace.CancelAfter(settings.GracefulShutdownTimeout));
        var attempt = await executor.RunAsync("once", grace.Token);
        if (attempt.Refused)
        {
            HostingLog.OnceRefused(logger, executor.LockFile);
            return ExitCodes.Failure;
        }

        return CycleExecutor.ExitCodeFor(attempt.Result!);
    }

    private async Task<int> RunDaemonAsync(ExporterSettings settings, SqliteStore store, CycleExecutor executor, CycleStatus status, ILoggerFactory loggers, ILogger logger, CancellationToken stopSignal)
    {
        HealthServer? health = null;
        if (settings.HealthcheckEnabled)
        {
            try
            {
                var dashboard = new DashboardContext(settings.Dashboard, store, status, env.Time, settings.UsageTimeZone, env.Secrets, loggers);
                health = await HealthServer.StartAsync(settings.HealthcheckHost, settings.HealthcheckPort, status, store, env.Time, loggers, stopSignal, dashboard);
                HostingLog.HealthListening(logger, health.Address.ToString());
                HealthListening?.Invoke(health.Address);
            }
            catch (IOException ex)
            {
                HostingLog.HealthBindFailed(logger, settings.HealthcheckHost, settings.HealthcheckPort, ex);
                return ExitCodes.Failure;
            }
        }

        await using (health)
        {
            // Backups, retention and verify run beside the export schedule (docs/operations.md).
            var maintenance = Task.Run(() => new MaintenanceJobs(settings, store, status.Maintenance, env.Time, loggers.CreateLogger<MaintenanceJobs>()).RunScheduleAsync(stopSignal), CancellationToken.None);
            using var scheduler = new Scheduler(CronSchedule.Parse(settings.CronSchedule, settings.CronTimeZone), executor, status, env.Time, loggers.CreateLogger<Scheduler>());
            await scheduler.RunAsync(stopSignal);
            HostingLog.Stopping(logger);
            var stopped = await scheduler.ShutdownAsync(settings.GracefulShutdownTimeout);
            await maintenance;
            return stopped ? ExitCodes.Success : ExitCodes.Failure;
        }
    }
}
