using System.Reflection;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Telemetry;

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

    /// <summary>
    /// Runs the daemon (<paramref name="once"/> false) until the host stops: on SIGTERM/SIGINT or
    /// when <paramref name="stopSignal"/> is cancelled. With <paramref name="once"/>, one cycle;
    /// then <paramref name="stopSignal"/> cancels it (recorded as cancelled, exit 130).
    /// Any unexpected failure ends here as one JSON error line and exit code 1.
    /// </summary>
    public async Task<int> RunAsync(bool once, CancellationToken stopSignal)
    {
        var snapshot = env.InspectConfiguration();
        var settings = snapshot.Settings;
        using var loggers = env.CreateLoggerFactory(settings ?? new ExporterSettings(), env.Out);
        var logger = loggers.CreateLogger<Daemon>();
        try
        {
            return await RunAsync(snapshot, once, loggers, logger, stopSignal);
        }
        catch (Exception ex)
        {
            // The last stop for a bug or an unforeseen failure: one error line (masked), exit 1.
            HostingLog.Fatal(logger, ex.GetType().Name, ex.Message, ex);
            return ExitCodes.Failure;
        }
    }

    private async Task<int> RunAsync(ConfigurationSnapshot snapshot, bool once, ILoggerFactory loggers, ILogger logger, CancellationToken stopSignal)
    {
        var settings = snapshot.Settings;
        HostingLog.Starting(logger, Version, once ? "one cycle" : "daemon");
        if (settings is null)
        {
            snapshot.Problems.ToList().ForEach(p => HostingLog.ConfigurationProblem(logger, p));
            HostingLog.ConfigurationInvalid(logger, snapshot.Problems.Count);
            return ExitCodes.Failure;
        }

        LogConfiguration(logger, snapshot);
        StateStore store;
        try
        {
            store = StateStore.Open(settings, env.Time);
        }
        catch (StoreException ex)
        {
            HostingLog.StoreUnusable(logger, ex.Problem.ToString(), ex.Message);
            return ExitCodes.Failure;
        }

        store.Warnings.ToList().ForEach(w => HostingLog.StoreWarning(logger, w));
        try
        {
            // Before any login to Dify: the store must be readable and take a real write.
            StoreProbe.Check(store);
        }
        catch (StoreException ex)
        {
            store.Dispose();
            HostingLog.StoreUnusable(logger, ex.Problem.ToString(), ex.Message);
            return ExitCodes.Failure;
        }

        using (store)
        {
            var status = new CycleStatus { StartedAt = env.Time.GetUtcNow() };
            var last = store.ReadLastCycle();
            status.Restore(last?.StartedAt, last?.FinishedAt, last?.Outcome, store.ReadLastCaughtUpCycle()?.FinishedAt);
            // OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set; disposed (flushed) last, after the cycle.
            using var telemetry = OtlpTelemetry.Start(settings.Otlp, Version, () => CycleStatusGauges.Create(status, env.Time), env.Time, loggers);
            var runner = runnerFactory(settings, store, loggers, env);
            using var ownedRunner = runner as IDisposable;
            var executor = new CycleExecutor(runner, store, status, env.Time, loggers.CreateLogger<CycleExecutor>());
            var code = once
                ? await RunOnceAsync(executor, logger, stopSignal)
                : await RunDaemonAsync(new DaemonParts(settings, CronSchedule.Parse(settings.CronSchedule, settings.CronTimeZone), store, status, executor, env.Time, loggers, env.Secrets), logger, stopSignal);
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

    private static async Task<int> RunOnceAsync(CycleExecutor executor, ILogger logger, CancellationToken stopSignal)
    {
        await executor.CloseAbandonedAsync(CancellationToken.None);
        // A one-shot cycle stops at once on SIGINT/SIGTERM (an operator at a terminal, a job
        // runner's stop): every write is a transaction and a batch is delivered only when API_Meter
        // confirmed it, so the cycle is recorded as cancelled and the next run continues from there.
        var attempt = await executor.RunAsync("once", stopSignal);
        if (attempt.Refused)
        {
            HostingLog.OnceRefused(logger, executor.LockFile);
            return ExitCodes.Failure;
        }

        return attempt.Cancelled ? ExitCodes.Cancelled : CycleExecutor.ExitCodeFor(attempt.Result!);
    }

    private async Task<int> RunDaemonAsync(DaemonParts parts, ILogger logger, CancellationToken stopSignal)
    {
        var host = DaemonHost.Build(parts);
        try
        {
            var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            using var onStopping = lifetime.ApplicationStopping.Register(() => HostingLog.Stopping(logger));
            try
            {
                await host.StartAsync(stopSignal);
            }
            catch (IOException ex)
            {
                HostingLog.HealthBindFailed(logger, parts.Settings.HealthcheckHost, parts.Settings.HealthcheckPort, ex);
                await host.StopAsync(CancellationToken.None);
                return ExitCodes.Failure;
            }

            if (DaemonHost.ListeningAddress(host) is { } address)
            {
                HostingLog.HealthListening(logger, address.ToString());
                HealthListening?.Invoke(address);
            }

            await host.WaitForShutdownAsync(stopSignal);
            var scheduler = host.Services.GetRequiredService<Scheduler>();
            return scheduler.ShutdownTimedOut || scheduler.Failed ? ExitCodes.Failure : ExitCodes.Success;
        }
        finally
        {
            if (host is IAsyncDisposable asyncHost)
            {
                await asyncHost.DisposeAsync();
            }
            else
            {
                host.Dispose();
            }
        }
    }
}
