using System.Collections.Concurrent;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>
/// Schedules whose firings are months or years apart (Task.Delay cannot wait more than 49.7 days),
/// driven across several years with a fake clock. The expected instants are written out by hand
/// from the calendar, not computed with the code under test.
/// </summary>
public sealed class SchedulerYearsTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 6, 1, 0, 0, 30, TimeSpan.Zero);
    private readonly TempDir dir = new();
    private readonly RecordingClock time = new(new FakeTimeProvider(Start));
    private readonly ConcurrentWriter log = new();
    private readonly StateStore store;
    private readonly ILoggerFactory loggers;

    public SchedulerYearsTests()
    {
        store = StateStore.Open(dir.Path, time);
        loggers = Logging.CreateFactory(LogLevelSetting.Debug, log, new SecretRegistry(), time);
    }

    public static TheoryData<string, string, string[]> Schedules() => new()
    {
        // Yearly: a year between firings.
        { "0 0 1 6 *", "UTC", ["2026-06-01T00:00:00Z", "2027-06-01T00:00:00Z", "2028-06-01T00:00:00Z", "2029-06-01T00:00:00Z"] },
        { "0 0 1 1 *", "UTC", ["2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"] },
        // Leap day: four years between firings.
        { "0 0 29 2 *", "UTC", ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"] },
        // The 31st: only the seven long months.
        { "0 0 31 * *", "UTC", ["2025-07-31T00:00:00Z", "2025-08-31T00:00:00Z", "2025-10-31T00:00:00Z", "2025-12-31T00:00:00Z", "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"] },
        // Quarterly: months 1, 4, 7, 10.
        { "0 0 1 */3 *", "UTC", ["2025-07-01T00:00:00Z", "2025-10-01T00:00:00Z", "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z"] },
        // 02:30 on 8 March in New York: 2026-03-08 is the spring-forward day (02:00-03:00 does not
        // exist), so it runs at the end of the gap, 03:00 EDT = 07:00Z; in 2027 and 2028 8 March is
        // before the change, 02:30 EST = 07:30Z.
        { "30 2 8 3 *", "America/New_York", ["2026-03-08T07:00:00Z", "2027-03-08T07:30:00Z", "2028-03-08T07:30:00Z"] },
    };

    [Theory]
    [MemberData(nameof(Schedules))]
    public async Task Fires_at_each_firing_for_years_waiting_in_bounded_steps(string cron, string zone, string[] expected)
    {
        var runner = new RecordingRunner(time);
        var status = new CycleStatus { StartedAt = Start };
        var executor = new CycleExecutor(runner, store, status, time, loggers.CreateLogger<CycleExecutor>());
        using var scheduler = new Scheduler(CronSchedule.Parse(cron, TimeZoneInfo.FindSystemTimeZoneById(zone)), RunOnStart.Never, executor, status, store, time, loggers.CreateLogger<Scheduler>());
        using var stop = new CancellationTokenSource();
        var ct = TestContext.Current.CancellationToken;
        var loop = scheduler.RunAsync(stop.Token);
        await time.WaitForNewTimerAsync(0);

        for (var i = 0; i < expected.Length; i++)
        {
            var due = DateTimeOffset.Parse(expected[i], System.Globalization.CultureInfo.InvariantCulture);
            status.NextRun.ShouldBe(due, $"firing {i + 1} of '{cron}'");
            // Jump to just before the firing (the pending step wakes late and re-reads the clock),
            // then to the firing itself.
            var timers = time.TimersCreated;
            time.Fake.SetUtcNow(due - TimeSpan.FromSeconds(1));
            await time.WaitForNewTimerAsync(timers);
            runner.Calls.Count.ShouldBe(i, $"'{cron}' fired before {expected[i]}");
            timers = time.TimersCreated;
            time.Fake.SetUtcNow(due);
            await runner.WaitForCallsAsync(i + 1, ct);
            runner.Calls[i].ShouldBe(due);
            await scheduler.RunningCycle!.WaitAsync(TimeSpan.FromSeconds(30), ct);
            await time.WaitForNewTimerAsync(timers);
        }

        time.LongestTimer.ShouldBeLessThanOrEqualTo(Scheduler.MaxStep);
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30), ct);
        log.ToString().ShouldNotContain("\"level\":\"error\"");
    }

    public void Dispose()
    {
        loggers.Dispose();
        store.Dispose();
        dir.Dispose();
    }

    /// <summary>A cycle that records the clock when it is called and succeeds at once.</summary>
    private sealed class RecordingRunner(TimeProvider time) : ICycleRunner
    {
        private readonly ConcurrentQueue<DateTimeOffset> calls = new();

        public IReadOnlyList<DateTimeOffset> Calls => calls.ToList();

        public Task<CycleResult> RunCycleAsync(string trigger, string runId, CancellationToken cancellationToken)
        {
            calls.Enqueue(time.GetUtcNow());
            return Task.FromResult(new CycleResult(CycleOutcome.Success, "recorded"));
        }

        public async Task WaitForCallsAsync(int count, CancellationToken cancellationToken)
        {
            for (var i = 0; i < 3000 && calls.Count < count; i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System, cancellationToken);
            }

            calls.Count.ShouldBeGreaterThanOrEqualTo(count, "the scheduler did not fire");
        }
    }
}

/// <summary>A TimeProvider over a <see cref="FakeTimeProvider"/> that counts the timers created and records the longest one.</summary>
public sealed class RecordingClock(FakeTimeProvider fake) : TimeProvider
{
    private int created;
    private long longestTicks;

    public FakeTimeProvider Fake => fake;

    public int TimersCreated => Volatile.Read(ref created);

    public TimeSpan LongestTimer => TimeSpan.FromTicks(Interlocked.Read(ref longestTicks));

    public override DateTimeOffset GetUtcNow() => fake.GetUtcNow();

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override long TimestampFrequency => fake.TimestampFrequency;

    public override long GetTimestamp() => fake.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            long seen;
            while (dueTime.Ticks > (seen = Interlocked.Read(ref longestTicks)) && Interlocked.CompareExchange(ref longestTicks, dueTime.Ticks, seen) != seen)
            {
            }
        }

        Interlocked.Increment(ref created);
        return fake.CreateTimer(callback, state, dueTime, period);
    }

    /// <summary>Waits (real time, bounded) until more than <paramref name="before"/> timers were created.</summary>
    public async Task WaitForNewTimerAsync(int before)
    {
        for (var i = 0; i < 3000 && TimersCreated <= before; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System, CancellationToken.None);
        }

        TimersCreated.ShouldBeGreaterThan(before, "the scheduler did not wait again");
    }
}
