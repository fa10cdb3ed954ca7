using System.Globalization;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Telemetry;

namespace DifyUsageExporter.Sync;

/// <summary>
/// The daemon's scheduler, a hosted service of the daemon's generic host. It waits for each firing
/// of the cron schedule (in its time zone, DST-aware) in steps of at most <see cref="MaxStep"/>,
/// re-reading the clock after every step: a schedule may be a year away (Task.Delay cannot wait
/// more than 49.7 days), and the host may be suspended or its clock stepped. At start it runs a
/// catch-up cycle as RUN_ON_START says. A tick while a cycle still runs is skipped with a warning.
/// On shutdown the running cycle may finish until the host's shutdown timeout
/// (GRACEFUL_SHUTDOWN_TIMEOUT), then it is cancelled and <see cref="ShutdownTimedOut"/> is set.
/// </summary>
public sealed class Scheduler(
    CronSchedule cron,
    RunOnStart runOnStart,
    CycleExecutor executor,
    CycleStatus status,
    StateStore store,
    TimeProvider time,
    ILogger<Scheduler> logger,
    IHostApplicationLifetime? lifetime = null) : BackgroundService
{
    public const string Trigger = "schedule";
    public const string CatchUpTrigger = "catch-up";

    /// <summary>The longest single wait; the clock is re-read after each.</summary>
    public static readonly TimeSpan MaxStep = TimeSpan.FromMinutes(1);

    /// <summary>A backward clock step larger than this recomputes the next firing (smaller ones just wait, like cron).</summary>
    public static readonly TimeSpan LargeBackwardStep = TimeSpan.FromHours(3);

    private readonly CancellationTokenSource cycleCancellation = new();
    private Task? running;

    /// <summary>The cycle started by the latest tick, if any.</summary>
    public Task? RunningCycle => Volatile.Read(ref running);

    /// <summary>The running cycle outlived the shutdown timeout and was cancelled (exit code 1).</summary>
    public bool ShutdownTimedOut { get; private set; }

    /// <summary>The scheduler itself failed (logged once; exit code 1).</summary>
    public bool Failed { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown while starting: nothing to report.
        }
        catch (Exception ex)
        {
            // The daemon must not go on without its scheduler: one error line, then stop with exit 1.
            Failed = true;
            SyncLog.SchedulerCrashed(logger, ex);
            lifetime?.StopApplication();
        }
    }

    /// <summary>Runs until <paramref name="stopping"/> is cancelled; never throws for a cycle's failure.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        if (lifetime is not null)
        {
            // Start only once the host (and its health server) is up, so a failed bind runs no cycle.
            await WaitAsync(lifetime.ApplicationStarted, stopping).ConfigureAwait(false);
        }

        await executor.CloseAbandonedAsync(stopping).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var next = cron.NextAfter(now);
        var catchUp = CatchUpReason(now, out var noCatchUp);
        status.Scheduled(next);
        if (catchUp is not null)
        {
            SyncLog.CatchUpNow(logger, catchUp, When(next), Format(next), Local(next), cron.TimeZone.Id, cron.Text);
            Fire(CatchUpTrigger, null);
        }
        else
        {
            SyncLog.FirstRun(logger, When(next), Format(next), Local(next), cron.TimeZone.Id, cron.Text, noCatchUp);
        }

        var lastSeen = now;
        while (!stopping.IsCancellationRequested)
        {
            now = time.GetUtcNow();
            if (now < lastSeen - LargeBackwardStep)
            {
                SyncLog.ClockMovedBack(logger, Math.Round((lastSeen - now).TotalSeconds), Format(lastSeen), Format(now));
                next = cron.NextAfter(now);
                Announce(next);
            }

            lastSeen = now;
            if (now >= next)
            {
                if (now - next > MaxStep + MaxStep)
                {
                    SyncLog.FiringLate(logger, Format(next), Math.Round((now - next).TotalSeconds));
                }

                Fire(Trigger, next);
                // After a long pause (suspend, clock jump) the missed firings are not replayed.
                next = cron.NextAfter(now);
                Announce(next);
                continue;
            }

            var step = next - now < MaxStep ? next - now : MaxStep;
            try
            {
                await Task.Delay(step, time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        status.Scheduled(null);
    }

    /// <summary>Stops scheduling, then lets the running cycle finish until <paramref name="cancellationToken"/> (the host's shutdown timeout) fires.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await DrainAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the running cycle until <paramref name="deadline"/> fires; then cancels it and returns false.</summary>
    public async Task<bool> DrainAsync(CancellationToken deadline)
    {
        var cycle = RunningCycle;
        if (cycle is null || cycle.IsCompleted)
        {
            return true;
        }

        SyncLog.WaitingForCycle(logger, Math.Round(GracefulTimeout.TotalSeconds));
        try
        {
            await cycle.WaitAsync(deadline).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            ShutdownTimedOut = true;
            SyncLog.ShutdownTimedOut(logger, Math.Round(GracefulTimeout.TotalSeconds));
            await cycleCancellation.CancelAsync().ConfigureAwait(false);
            // Give the cancelled cycle a moment to record its end; the exit code is 1 either way.
            await Task.WhenAny(cycle, Task.Delay(TimeSpan.FromSeconds(5), time, CancellationToken.None)).ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>GRACEFUL_SHUTDOWN_TIMEOUT, for the log lines (the host enforces it).</summary>
    public TimeSpan GracefulTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public override void Dispose()
    {
        cycleCancellation.Dispose();
        base.Dispose();
    }

    private string? CatchUpReason(DateTimeOffset now, out string noCatchUp)
    {
        noCatchUp = string.Empty;
        switch (runOnStart)
        {
            case RunOnStart.Never:
                noCatchUp = "RUN_ON_START=never";
                return null;
            case RunOnStart.Always:
                return "RUN_ON_START=always";
        }

        var last = store.ReadLastCaughtUpCycle();
        if (last is null)
        {
            return "RUN_ON_START=missed and no successful cycle is recorded yet";
        }

        if (cron.FiresBetween(last.StartedAt, now))
        {
            return $"RUN_ON_START=missed: the firing of {Format(cron.NextAfter(last.StartedAt))} passed without a successful cycle since; the last one started at {Format(last.StartedAt)}";
        }

        noCatchUp = $"RUN_ON_START=missed: the last successful cycle, started at {Format(last.StartedAt)}, is newer than the latest scheduled firing";
        return null;
    }

    private void Fire(string trigger, DateTimeOffset? due)
    {
        if (RunningCycle is { IsCompleted: false })
        {
            SyncLog.TickSkipped(logger, Format(due ?? time.GetUtcNow()));
            status.TickSkipped();
            CycleMetrics.SkippedTicks.Add(1);
            return;
        }

        Volatile.Write(ref running, Task.Run(() => executor.RunAsync(trigger, cycleCancellation.Token)));
    }

    private void Announce(DateTimeOffset next)
    {
        status.Scheduled(next);
        SyncLog.NextRun(logger, When(next), Format(next), Local(next), cron.TimeZone.Id, cron.Text);
    }

    /// <summary>UTC, then the schedule's zone, each once: a zone that is always UTC is not repeated.</summary>
    private string When(DateTimeOffset instant) =>
        cron.TimeZone.BaseUtcOffset == TimeSpan.Zero && !cron.TimeZone.SupportsDaylightSavingTime
            ? Format(instant)
            : $"{Format(instant)} ({Local(instant)} {cron.TimeZone.Id})";

    private string Local(DateTimeOffset instant) =>
        TimeZoneInfo.ConvertTime(instant, cron.TimeZone).ToString(Iso.DayFormat + "'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private static string Format(DateTimeOffset instant) =>
        Iso.InstantSeconds(instant);

    private static async Task WaitAsync(CancellationToken started, CancellationToken stopping)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = started.Register(() => signal.TrySetResult());
        await signal.Task.WaitAsync(stopping).ConfigureAwait(false);
    }
}
