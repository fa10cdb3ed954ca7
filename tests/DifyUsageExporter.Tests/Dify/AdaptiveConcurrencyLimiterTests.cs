using DifyUsageExporter.Dify;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>
/// The adaptive limit, driven step by step: a clock that only moves when told, leases taken and
/// returned by the test, so every expectation follows from the AIMD rules, never from timing.
/// </summary>
public class AdaptiveConcurrencyLimiterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A monotonic clock for latency only: moves when the test says so.</summary>
    private sealed class StepClock : TimeProvider
    {
        private long ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref ticks);

        public void Advance(double milliseconds) => Interlocked.Add(ref ticks, (long)(milliseconds * TimeSpan.TicksPerMillisecond));
    }

    /// <summary>Fills the limit, waits <paramref name="latencyMs"/>, answers every request with <paramref name="signal"/>.</summary>
    private static int Round(AdaptiveConcurrencyLimiter limiter, StepClock clock, double latencyMs, RequestSignal signal = RequestSignal.Success)
    {
        var leases = new List<AdaptiveConcurrencyLimiter.Lease>();
        for (var i = limiter.Limit; i > 0; i--)
        {
            var task = limiter.AcquireAsync(CancellationToken.None);
            task.IsCompletedSuccessfully.ShouldBeTrue("a slot below the limit is granted at once");
            leases.Add(task.Result);
        }

        clock.Advance(latencyMs);
        foreach (var lease in leases)
        {
            limiter.Release(lease, signal);
        }

        return leases.Count;
    }

    [Theory]
    [InlineData(16, 8)]
    [InlineData(32, 8)]
    [InlineData(8, 8)]
    [InlineData(4, 4)]
    [InlineData(1, 1)]
    public void Starts_at_eight_or_at_a_lower_ceiling(int ceiling, int expected)
    {
        new AdaptiveConcurrencyLimiter(ceiling, new StepClock()).Limit.ShouldBe(expected);
    }

    [Fact]
    public void Grows_by_one_per_full_round_of_healthy_answers_up_to_the_ceiling_and_never_beyond()
    {
        var clock = new StepClock();
        var changes = new List<(int Old, int New)>();
        var limiter = new AdaptiveConcurrencyLimiter(16, clock, (o, n, _) => changes.Add((o, n)));
        var seen = new List<int>();
        for (var round = 0; round < 40; round++)
        {
            seen.Add(Round(limiter, clock, 20));
        }

        // 8, 9, ..., 16, then it stays at the ceiling.
        seen.Take(9).ShouldBe([8, 9, 10, 11, 12, 13, 14, 15, 16]);
        seen.Skip(9).ShouldAllBe(n => n == 16);
        changes.ShouldBe(Enumerable.Range(8, 8).Select(n => (n, n + 1)).ToList());
        limiter.Snapshot().ShouldBe(new ConcurrencySnapshot(16, 16, 8, 16, 16, 0));
    }

    [Fact]
    public async Task Does_not_grow_while_the_limit_is_not_in_use()
    {
        var clock = new StepClock();
        var limiter = new AdaptiveConcurrencyLimiter(16, clock);
        for (var i = 0; i < 200; i++)
        {
            // One request at a time: more slots would not help, so the limit stays.
            var lease = await limiter.AcquireAsync(Ct);
            clock.Advance(20);
            limiter.Release(lease, RequestSignal.Success);
        }

        limiter.Limit.ShouldBe(8);
        limiter.Snapshot().PeakInFlight.ShouldBe(1);
    }

    [Fact]
    public void A_burst_of_overload_answers_from_one_round_halves_the_limit_once()
    {
        var clock = new StepClock();
        var limiter = new AdaptiveConcurrencyLimiter(16, clock);
        while (limiter.Limit < 16)
        {
            Round(limiter, clock, 20);
        }

        // All 16 in flight come back as 429/5xx: the first halves the limit, the other 15 started
        // before that decrease and do not count again.
        Round(limiter, clock, 20, RequestSignal.Overload).ShouldBe(16);
        limiter.Limit.ShouldBe(8);

        // The next round (started after the decrease) fails too: halved again, and so on down to 1.
        Round(limiter, clock, 20, RequestSignal.Overload).ShouldBe(8);
        limiter.Limit.ShouldBe(4);
        Round(limiter, clock, 20, RequestSignal.Overload);
        Round(limiter, clock, 20, RequestSignal.Overload);
        Round(limiter, clock, 20, RequestSignal.Overload);
        limiter.Limit.ShouldBe(1);
        limiter.Snapshot().MinLimit.ShouldBe(1);

        // Healthy again: it grows back one step per full round.
        Round(limiter, clock, 20);
        limiter.Limit.ShouldBe(2);
        Round(limiter, clock, 20);
        limiter.Limit.ShouldBe(3);
    }

    [Fact]
    public void A_busy_host_whose_latency_jumps_between_5_and_200_ms_all_along_is_not_taken_for_an_overloaded_dify()
    {
        var clock = new StepClock();
        var limiter = new AdaptiveConcurrencyLimiter(16, clock);
        for (var round = 0; round < 60; round++)
        {
            Round(limiter, clock, round % 2 == 0 ? 5 : 200);
        }

        limiter.Snapshot().Decreases.ShouldBe(0);
        limiter.Limit.ShouldBe(16);
    }

    [Fact]
    public void Cancelled_attempts_say_nothing_about_dify()
    {
        var clock = new StepClock();
        var limiter = new AdaptiveConcurrencyLimiter(16, clock);
        Round(limiter, clock, 20, RequestSignal.Ignored);
        Round(limiter, clock, 20, RequestSignal.Ignored);
        limiter.Limit.ShouldBe(8);
        limiter.Snapshot().Decreases.ShouldBe(0);
    }

    [Fact]
    public void Latency_rising_far_above_its_long_term_average_shrinks_the_limit_and_jitter_does_not()
    {
        var clock = new StepClock();
        var reasons = new List<string>();
        var limiter = new AdaptiveConcurrencyLimiter(16, clock, (_, _, r) => reasons.Add(r));
        for (var i = 0; i < 3; i++)
        {
            Round(limiter, clock, 20);
        }

        limiter.Limit.ShouldBe(11);

        // 20 → 90 ms: more than twice the long-term average, but far less than 250 ms above it: jitter, keep growing.
        Round(limiter, clock, 90);
        limiter.Limit.ShouldBe(12);

        // 20 → 600 ms: Dify queues. The limit shrinks by a quarter, and not again from the same round.
        Round(limiter, clock, 600);
        limiter.Limit.ShouldBe(9);
        reasons[^1].ShouldStartWith("latency");
        limiter.Snapshot().Decreases.ShouldBe(1);
    }

    [Fact]
    public async Task Waiters_get_released_slots_first_come_first_served_and_a_cancelled_waiter_leaves_the_queue()
    {
        var limiter = new AdaptiveConcurrencyLimiter(2, new StepClock());
        var a = await limiter.AcquireAsync(Ct);
        var b = await limiter.AcquireAsync(Ct);

        using var cancel = new CancellationTokenSource();
        var cancelled = limiter.AcquireAsync(cancel.Token);
        var first = limiter.AcquireAsync(Ct);
        var second = limiter.AcquireAsync(Ct);
        (cancelled.IsCompleted || first.IsCompleted || second.IsCompleted).ShouldBeFalse("the limit of 2 is in use");
        await cancel.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(() => cancelled);

        limiter.Release(a, RequestSignal.Success);
        var granted = await first.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        second.IsCompleted.ShouldBeFalse("one slot was freed, and the earlier waiter took it");

        limiter.Release(b, RequestSignal.Success);
        await second.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        limiter.Release(granted, RequestSignal.Success);
        limiter.Snapshot().PeakInFlight.ShouldBe(2);
    }
}
