using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Tests.Support;

/// <summary>The daemon's real host (status server on 127.0.0.1:0 + scheduler) over a given store, status and clock.</summary>
public sealed class StatusHost : IAsyncDisposable
{
    private readonly IHost host;

    private StatusHost(IHost host, Uri address)
    {
        this.host = host;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<StatusHost> StartAsync(StateStore store, CycleStatus status, TimeProvider time, ILoggerFactory loggers, string cron = "0 0 1 1 *", ICycleRunner? runner = null)
    {
        var settings = new ExporterSettings { HealthcheckHost = "127.0.0.1", HealthcheckPort = 0, CronSchedule = cron, RunOnStart = RunOnStart.Never };
        var executor = new CycleExecutor(runner ?? new TestCycleRunner(), store, status, time, loggers.CreateLogger<CycleExecutor>());
        var host = DaemonHost.Build(new DaemonParts(settings, CronSchedule.Parse(cron, TimeZoneInfo.Utc), store, status, executor, time, loggers, new SecretRegistry()));
        await host.StartAsync(CancellationToken.None);
        // The scheduler announces its first firing once the host has started.
        for (var i = 0; i < 2000 && status.NextRun is null; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System, CancellationToken.None);
        }

        return new StatusHost(host, DaemonHost.ListeningAddress(host)!);
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(CancellationToken.None);
        host.Dispose();
    }
}
