using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Sync;

public sealed class SchedulerTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 6, 1, 0, 0, 30, TimeSpan.Zero);
    private readonly TempDir dir = new();
    private readonly FakeClock time = new(Start);
    private readonly ConcurrentWriter log = new();
    private readonly StateStore store;
    private readonly ILoggerFactory loggers;
    private readonly CycleStatus status = new() { StartedAt = Start };

    public SchedulerTests()
    {
        store = StateStore.Open(dir.Path, time);
        loggers = Logging.CreateFactory(LogLevelSetting.Debug, log, new SecretRegistry(), time);
    }

    private Scheduler Create(ICycleRunner runner) =>
        new(CronSchedule.Parse("*/5 * * * *", TimeZoneInfo.Utc), RunOnStart.Never, new CycleExecutor(runner, store, status, time, loggers.CreateLogger<CycleExecutor>()), status, store, time, loggers.CreateLogger<Scheduler>());

    [Fact]
    public async Task Logs_the_next_run_then_runs_the_cycle_at_the_cron_time_and_skips_a_tick_while_it_runs()
    {
        var runner = new TestCycleRunner();
        using var scheduler = Create(runner);
        using var stop = new CancellationTokenSource();
        var loop = scheduler.RunAsync(stop.Token);

        await time.WaitForTimersAsync();
        // The schedule's zone is UTC: the time is printed once, not again as +00:00.
        log.ToString().ShouldContain("Next export cycle at 2025-06-01T00:05:00Z, schedule '*/5 * * * *'");
        status.NextRun.ShouldBe(new DateTimeOffset(2025, 6, 1, 0, 5, 0, TimeSpan.Zero));
        runner.Calls.ShouldBe(0);

        time.Advance(TimeSpan.FromMinutes(5));
        await runner.Started.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await time.WaitForTimersAsync();
        time.Advance(TimeSpan.FromMinutes(5));
        await time.WaitForTimersAsync();

        runner.Calls.ShouldBe(1);
        log.ToString().ShouldContain("Skipping the scheduled tick of 2025-06-01T00:10:00Z");
        status.Skipped.ShouldBe(1);

        runner.Finish();
        await scheduler.RunningCycle!.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        status.LastOutcome.ShouldBe("success");
        store.ReadLastCycle()!.Outcome.ShouldBe("success");
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Shutdown_waits_for_a_cycle_that_finishes_within_the_timeout()
    {
        var runner = new TestCycleRunner();
        using var scheduler = Create(runner);
        using var stop = new CancellationTokenSource();
        var loop = scheduler.RunAsync(stop.Token);
        await time.WaitForTimersAsync();
        time.Advance(TimeSpan.FromMinutes(5));
        await runner.Started.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        using var deadline = new CancellationTokenSource();
        var shutdown = scheduler.DrainAsync(deadline.Token);
        shutdown.IsCompleted.ShouldBeFalse();
        runner.Finish();

        (await shutdown.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken)).ShouldBeTrue();
        store.ReadLastCycle()!.Outcome.ShouldBe("success");
    }

    [Fact]
    public async Task Shutdown_cancels_a_cycle_that_outlives_the_timeout_and_reports_failure()
    {
        var runner = new TestCycleRunner();
        using var scheduler = Create(runner);
        using var stop = new CancellationTokenSource();
        var loop = scheduler.RunAsync(stop.Token);
        await time.WaitForTimersAsync();
        time.Advance(TimeSpan.FromMinutes(5));
        await runner.Started.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        using var deadline = new CancellationTokenSource();
        var shutdown = scheduler.DrainAsync(deadline.Token);
        shutdown.IsCompleted.ShouldBeFalse();
        await deadline.CancelAsync();

        (await shutdown.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken)).ShouldBeFalse();
        scheduler.ShutdownTimedOut.ShouldBeTrue();
        await scheduler.RunningCycle!.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        store.ReadLastCycle()!.Outcome.ShouldBe(CycleExecutor.Cancelled);
        log.ToString().ShouldContain("did not finish within GRACEFUL_SHUTDOWN_TIMEOUT");
    }

    [Fact]
    public async Task A_tick_while_another_process_holds_the_lock_is_refused_without_running_the_cycle()
    {
        var runner = new TestCycleRunner();
        runner.Finish();
        using var scheduler = Create(runner);
        using var held = CycleLock.TryAcquire(dir.Path);
        held.ShouldNotBeNull();
        using var stop = new CancellationTokenSource();
        var loop = scheduler.RunAsync(stop.Token);
        await time.WaitForTimersAsync();
        time.Advance(TimeSpan.FromMinutes(5));
        await scheduler.RunningCycle!.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        runner.Calls.ShouldBe(0);
        log.ToString().ShouldContain("refused: another process is running a cycle");
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    public void Dispose()
    {
        loggers.Dispose();
        store.Dispose();
        dir.Dispose();
    }
}
