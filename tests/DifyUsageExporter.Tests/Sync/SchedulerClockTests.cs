using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>
/// Suspend/resume and clock steps: timers run on the monotonic clock, so after a jump of the wall
/// clock a pending wait still ends after its remaining time (<see cref="FakeTimeProvider.AdjustTime"/>).
/// The scheduler must re-read the wall clock then and act on what it says.
/// </summary>
public sealed class SchedulerClockTests : IDisposable
{
    private readonly TempDir dir = new();
    private readonly ConcurrentWriter log = new();

    [Fact]
    public async Task After_a_suspend_past_a_firing_it_runs_once_late_and_does_not_replay_the_missed_firings()
    {
        var time = new FakeClock(new DateTimeOffset(2025, 6, 1, 0, 30, 0, TimeSpan.Zero));
        var (scheduler, status, runner, loop, stop) = Start(time, "0 1 * * *");
        await time.WaitForTimersAsync();

        // Suspended at 00:30 on 1 June for three days and a bit; resumed at 00:40 on 4 June.
        time.AdjustTime(time.GetUtcNow() + TimeSpan.FromDays(3) + TimeSpan.FromMinutes(10));
        time.Advance(Scheduler.MaxStep);
        await runner.Started.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await scheduler.RunningCycle!.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await time.WaitForTimersAsync();

        runner.Calls.ShouldBe(1);
        status.NextRun.ShouldBe(new DateTimeOffset(2025, 6, 4, 1, 0, 0, TimeSpan.Zero));
        log.ToString().ShouldContain("The firing of 2025-06-01T01:00:00Z is");
        await StopAsync(stop, loop);
    }

    [Fact]
    public async Task A_clock_stepped_back_years_recomputes_the_next_firing_instead_of_waiting_for_the_old_one()
    {
        // The clock was wrong (2030) when the daemon started; NTP then steps it back to 2026.
        var time = new FakeClock(new DateTimeOffset(2030, 6, 1, 0, 30, 0, TimeSpan.Zero));
        var (scheduler, status, runner, loop, stop) = Start(time, "0 1 * * *");
        await time.WaitForTimersAsync();
        status.NextRun.ShouldBe(new DateTimeOffset(2030, 6, 1, 1, 0, 0, TimeSpan.Zero));

        time.AdjustTime(new DateTimeOffset(2026, 6, 1, 0, 30, 0, TimeSpan.Zero));
        time.Advance(Scheduler.MaxStep);
        await WaitUntilAsync(() => status.NextRun == new DateTimeOffset(2026, 6, 1, 1, 0, 0, TimeSpan.Zero));
        log.ToString().ShouldContain("The clock moved back");

        await time.WaitForTimersAsync();
        for (var i = 0; i < 30 && runner.Calls == 0; i++)
        {
            time.Advance(Scheduler.MaxStep);
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, TestContext.Current.CancellationToken);
        }

        await runner.Started.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await scheduler.RunningCycle!.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        runner.Calls.ShouldBe(1);
        await StopAsync(stop, loop);
    }

    [Fact]
    public async Task A_small_step_back_just_delays_the_firing_without_running_it_twice()
    {
        var time = new FakeClock(new DateTimeOffset(2025, 6, 1, 0, 59, 30, TimeSpan.Zero));
        var (scheduler, status, runner, loop, stop) = Start(time, "0 1 * * *");
        await time.WaitForTimersAsync();
        time.Advance(Scheduler.MaxStep);
        await runner.Started.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await scheduler.RunningCycle!.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await time.WaitForTimersAsync();

        // Stepped back ten minutes across the 01:00 firing that already ran.
        time.AdjustTime(time.GetUtcNow() - TimeSpan.FromMinutes(10));
        for (var i = 0; i < 15; i++)
        {
            time.Advance(Scheduler.MaxStep);
            await time.WaitForTimersAsync();
        }

        runner.Calls.ShouldBe(1);
        status.NextRun.ShouldBe(new DateTimeOffset(2025, 6, 2, 1, 0, 0, TimeSpan.Zero));
        await StopAsync(stop, loop);
    }

    public void Dispose() => dir.Dispose();

    private (Scheduler Scheduler, CycleStatus Status, TestCycleRunner Runner, Task Loop, CancellationTokenSource Stop) Start(FakeClock time, string cron)
    {
        var store = StateStore.Open(dir.Path, time);
        var loggers = Logging.CreateFactory(LogLevelSetting.Debug, log, new SecretRegistry(), time);
        var status = new CycleStatus { StartedAt = time.GetUtcNow() };
        var runner = new TestCycleRunner();
        runner.Finish();
        var executor = new CycleExecutor(runner, store, status, time, loggers.CreateLogger<CycleExecutor>());
        var scheduler = new Scheduler(CronSchedule.Parse(cron, TimeZoneInfo.Utc), RunOnStart.Never, executor, status, store, time, loggers.CreateLogger<Scheduler>());
        var stop = new CancellationTokenSource();
        return (scheduler, status, runner, scheduler.RunAsync(stop.Token), stop);
    }

    private static async Task StopAsync(CancellationTokenSource stop, Task loop)
    {
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 2000 && !condition(); i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System, CancellationToken.None);
        }

        condition().ShouldBeTrue();
    }
}
