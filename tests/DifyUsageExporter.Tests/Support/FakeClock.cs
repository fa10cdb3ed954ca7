namespace DifyUsageExporter.Tests.Support;

/// <summary>What happens to a timer (a <c>Task.Delay</c>, a periodic wait) created on a <see cref="FakeClock"/>.</summary>
public enum FakeTimers
{
    /// <summary>Timers fire only when the test moves the clock (<see cref="FakeTimeProvider.Advance"/>).</summary>
    Manual,

    /// <summary>
    /// Timers fire at once and move the clock forward by their due time, so backoff and Retry-After
    /// waits take no real time; the requested delays are recorded in <see cref="FakeClock.Delays"/>.
    /// </summary>
    FastForward,

    /// <summary>Timers run on the real clock while the wall clock stays where the test puts it.</summary>
    Real,
}

/// <summary>
/// The tests' one clock: a <see cref="FakeTimeProvider"/> that also counts the timers waiting to fire
/// (so a test can wait until the code under test is waiting) and records every requested delay.
/// <see cref="FakeTimeProvider.AdjustTime"/> steps the wall clock without touching pending timers,
/// as NTP or a resumed host does.
/// </summary>
public sealed class FakeClock(DateTimeOffset start, FakeTimers timers = FakeTimers.Manual) : FakeTimeProvider(start)
{
    private readonly Lock gate = new();
    private readonly List<TimeSpan> delays = [];
    private int active;

    /// <summary>Timers created and neither fired (one-shot) nor disposed.</summary>
    public int ActiveTimers => Volatile.Read(ref active);

    /// <summary>The due time of every timer created, in order.</summary>
    public IReadOnlyList<TimeSpan> Delays
    {
        get
        {
            lock (gate)
            {
                return delays.ToList();
            }
        }
    }

    public void ClearDelays()
    {
        lock (gate)
        {
            delays.Clear();
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            lock (gate)
            {
                delays.Add(dueTime);
            }
        }

        switch (timers)
        {
            case FakeTimers.FastForward when dueTime != Timeout.InfiniteTimeSpan:
                Advance(dueTime);
                return TimeProvider.System.CreateTimer(callback, state, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            case FakeTimers.FastForward:
            case FakeTimers.Real:
                return TimeProvider.System.CreateTimer(callback, state, dueTime, period);
            default:
                var counted = new CountedTimer(this, period);
                counted.Inner = base.CreateTimer(s => counted.Fire(callback, s), state, dueTime, period);
                counted.Arm(dueTime);
                return counted;
        }
    }

    /// <summary>Waits (in real time, bounded) until at least <paramref name="count"/> timers are pending.</summary>
    public async Task WaitForTimersAsync(int count = 1)
    {
        for (var i = 0; i < 2000 && ActiveTimers < count; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System, CancellationToken.None);
        }

        if (ActiveTimers < count)
        {
            throw new TimeoutException($"Expected {count} pending timer(s), found {ActiveTimers}.");
        }
    }

    private sealed class CountedTimer(FakeClock owner, TimeSpan period) : ITimer
    {
        private bool armed;

        public ITimer Inner { get; set; } = null!;

        public void Arm(TimeSpan dueTime) => SetArmed(dueTime != Timeout.InfiniteTimeSpan);

        public void Fire(TimerCallback callback, object? state)
        {
            if (period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero)
            {
                SetArmed(false);
            }

            callback(state);
        }

        public bool Change(TimeSpan dueTime, TimeSpan newPeriod)
        {
            period = newPeriod;
            SetArmed(dueTime != Timeout.InfiniteTimeSpan);
            return Inner.Change(dueTime, newPeriod);
        }

        public void Dispose()
        {
            SetArmed(false);
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private void SetArmed(bool value)
        {
            lock (owner.gate)
            {
                if (armed != value)
                {
                    armed = value;
                    owner.active += value ? 1 : -1;
                }
            }
        }
    }
}
