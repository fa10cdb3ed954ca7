using System.Globalization;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Telemetry;

namespace DifyUsageExporter.Sync;

/// <summary>
/// The daemon's loop: waits for each firing of the cron schedule (in its time zone, DST-aware),
/// starts a cycle in the background, and skips a tick with a warning while a cycle still runs.
/// On shutdown, <see cref="ShutdownAsync"/> lets the running cycle finish within the timeout.
/// </summary>
public sealed class Scheduler(CronSchedule cron, CycleExecutor executor, CycleStatus status, TimeProvider time, ILogger<Scheduler> logger) : IDisposable
{
    public const string Trigger = "schedule";

    private readonly CancellationTokenSource cycleCancellation = new();
    private Task? running;

    /// <summary>The cycle started by the latest tick, if any.</summary>
    public Task? RunningCycle => Volatile.Read(ref running);

    /// <summary>Runs until <paramref name="stopping"/> is cancelled; never throws for a cycle's failure.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        var next = cron.NextAfter(time.GetUtcNow());
        Announce(next);
        while (!stopping.IsCancellationRequested)
        {
            var delay = next - time.GetUtcNow();
            if (delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(delay, time, stopping);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            var now = time.GetUtcNow();
            if (now < next)
            {
                continue;
            }

            Fire(next);
            // After a long pause (suspend, clock jump) the missed firings are not replayed.
            next = cron.NextAfter(now > next ? now : next);
            Announce(next);
        }

        status.Scheduled(null);
    }

    /// <summary>Waits for the running cycle up to <paramref name="timeout"/>; past it, cancels the cycle and returns false.</summary>
    public async Task<bool> ShutdownAsync(TimeSpan timeout)
    {
        var cycle = RunningCycle;
        if (cycle is null || cycle.IsCompleted)
        {
            return true;
        }

        SyncLog.WaitingForCycle(logger, timeout.TotalSeconds);
        using var timer = new CancellationTokenSource();
        var expired = Task.Delay(timeout, time, timer.Token);
        if (await Task.WhenAny(cycle, expired) == cycle)
        {
            await timer.CancelAsync();
            return true;
        }

        SyncLog.ShutdownTimedOut(logger, timeout.TotalSeconds);
        await cycleCancellation.CancelAsync();
        // Give the cancelled cycle a moment to record its end; the exit code is 1 either way.
        await Task.WhenAny(cycle, Task.Delay(TimeSpan.FromSeconds(2), time));
        return false;
    }

    public void Dispose() => cycleCancellation.Dispose();

    private void Fire(DateTimeOffset due)
    {
        if (RunningCycle is { IsCompleted: false })
        {
            SyncLog.TickSkipped(logger, Format(due));
            status.TickSkipped();
            CycleMetrics.SkippedTicks.Add(1);
            return;
        }

        Volatile.Write(ref running, Task.Run(() => executor.RunAsync(Trigger, cycleCancellation.Token)));
    }

    private void Announce(DateTimeOffset next)
    {
        status.Scheduled(next);
        var local = TimeZoneInfo.ConvertTime(next, cron.TimeZone);
        SyncLog.NextRun(logger, Format(next), local.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture), cron.TimeZone.Id, cron.Text);
    }

    private static string Format(DateTimeOffset instant) =>
        instant.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
