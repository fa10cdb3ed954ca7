using DifyUsageExporter.Cli;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>
/// RUN_ON_START: at start, catch up a scheduled firing that passed without a successful cycle since
/// (daily at 01:00 UTC; the daemon starts on 10 June at 12:00, so the latest firing was 10 June 01:00).
/// </summary>
public sealed class RunOnStartTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset LatestFiring = new(2025, 6, 10, 1, 0, 0, TimeSpan.Zero);
    private readonly TempDir dir = new();
    private readonly ConcurrentWriter log = new();
    private readonly FakeClock time = new(Now);

    [Theory]
    [InlineData(RunOnStart.Missed, true)]
    [InlineData(RunOnStart.Always, true)]
    [InlineData(RunOnStart.Never, false)]
    public async Task A_fresh_store_has_missed_every_firing(RunOnStart mode, bool expectCatchUp) =>
        (await StartAsync(mode)).ShouldBe(expectCatchUp);

    [Theory]
    [InlineData(-60, CycleOutcome.Success, true)] // last success started before the latest firing
    [InlineData(+60, CycleOutcome.Success, false)] // ... after it
    [InlineData(+60, CycleOutcome.Failed, true)] // only a failed cycle since the firing
    public async Task Missed_compares_the_latest_firing_with_the_last_successful_cycle(int minutesAfterFiring, CycleOutcome outcome, bool expectCatchUp)
    {
        await RecordAsync(LatestFiring.AddMinutes(minutesAfterFiring), new CycleResult(outcome, "earlier"));

        (await StartAsync(RunOnStart.Missed)).ShouldBe(expectCatchUp);
    }

    [Fact]
    public async Task A_cycle_that_left_only_dead_letters_is_successful_but_one_that_left_records_pending_is_not()
    {
        await RecordAsync(LatestFiring.AddMinutes(5), new CycleResult(CycleOutcome.Spooled, "dead letters only") { CaughtUp = true });
        (await StartAsync(RunOnStart.Missed)).ShouldBeFalse();

        await RecordAsync(LatestFiring.AddMinutes(10), new CycleResult(CycleOutcome.Spooled, "records pending"));
        (await StartAsync(RunOnStart.Missed)).ShouldBeFalse("the earlier caught-up cycle still started after the firing");
    }

    [Fact]
    public async Task Always_runs_even_after_a_recent_success()
    {
        await RecordAsync(LatestFiring.AddMinutes(60), new CycleResult(CycleOutcome.Success, "fine"));

        (await StartAsync(RunOnStart.Always)).ShouldBeTrue();
    }

    [Fact]
    public async Task A_restart_right_after_the_catch_up_runs_no_second_one()
    {
        (await StartAsync(RunOnStart.Missed)).ShouldBeTrue();
        log.ToString().ShouldContain("First export cycle: now, as a catch-up");

        time.Advance(TimeSpan.FromSeconds(20));
        (await StartAsync(RunOnStart.Missed)).ShouldBeFalse();
        log.ToString().ShouldContain("that is the first cycle: no catch-up at start (RUN_ON_START=missed: the last successful cycle, started at 2025-06-10T12:00:00Z");
    }

    [Fact]
    public async Task A_successful_run_once_counts_as_a_successful_cycle()
    {
        var data = Path.Combine(dir.Path, "data");
        var runner = new TestCycleRunner();
        runner.Finish();
        var cli = new CapturedEnvironment(ValidConfig.Variables(data), dir.Path, time);
        CliApp.Run(["run", "--once"], cli.Env, (_, _, _, _) => runner).ShouldBe(0);

        (await StartAsync(RunOnStart.Missed, data)).ShouldBeFalse();
    }

    public void Dispose() => dir.Dispose();

    private async Task RecordAsync(DateTimeOffset at, CycleResult result)
    {
        using var store = StateStore.Open(Path.Combine(dir.Path, "data"), time);
        var id = Guid.NewGuid().ToString("N");
        await store.RecordCycleStartAsync(id, "schedule", at, CancellationToken.None);
        await store.RecordCycleEndAsync(id, at.AddMinutes(1), result.Outcome.ToString().ToLowerInvariant(), result.Summary, new CycleFacts(result.CaughtUp, 0, null), CancellationToken.None);
    }

    /// <summary>Starts a scheduler on the store; returns whether it ran a catch-up cycle at start.</summary>
    private async Task<bool> StartAsync(RunOnStart mode, string? data = null)
    {
        using var store = StateStore.Open(data ?? Path.Combine(dir.Path, "data"), time);
        using var loggers = Logging.CreateFactory(LogLevelSetting.Info, log, new SecretRegistry(), time);
        var status = new CycleStatus { StartedAt = time.GetUtcNow() };
        var runner = new TestCycleRunner();
        runner.Finish();
        var executor = new CycleExecutor(runner, store, status, time, loggers.CreateLogger<CycleExecutor>());
        using var scheduler = new Scheduler(CronSchedule.Parse("0 1 * * *", TimeZoneInfo.Utc), mode, executor, status, store, time, loggers.CreateLogger<Scheduler>());
        using var stop = new CancellationTokenSource();
        var loop = scheduler.RunAsync(stop.Token);
        await time.WaitForTimersAsync();
        if (scheduler.RunningCycle is { } cycle)
        {
            await cycle.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }

        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        status.NextRun.ShouldBeNull();
        if (runner.Calls > 0)
        {
            store.ReadLastCycle()!.Trigger.ShouldBe(Scheduler.CatchUpTrigger);
        }

        return runner.Calls > 0;
    }
}
