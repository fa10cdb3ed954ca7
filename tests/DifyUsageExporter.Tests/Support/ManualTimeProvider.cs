namespace DifyUsageExporter.Tests.Support;

/// <summary>A TimeProvider whose clock only moves when a test calls <see cref="Advance"/>; timers fire then.</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Lock gate = new();
    private readonly List<ManualTimer> timers = [];
    private DateTimeOffset now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return now;
        }
    }

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Timers waiting to fire (a Task.Delay in progress shows up here).</summary>
    public int ActiveTimers
    {
        get
        {
            lock (gate)
            {
                return timers.Count(t => t.Due is not null);
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        lock (gate)
        {
            timers.Add(timer);
        }

        return timer;
    }

    public void Advance(TimeSpan by)
    {
        List<ManualTimer> due;
        lock (gate)
        {
            now += by;
            due = timers.Where(t => t.Due is { } d && d <= now).ToList();
            foreach (var timer in due)
            {
                timer.Due = timer.Period > TimeSpan.Zero ? now + timer.Period : null;
            }
        }

        foreach (var timer in due)
        {
            timer.Fire();
        }
    }

    /// <summary>
    /// Steps the wall clock by <paramref name="offset"/> (forward or back) without firing timers:
    /// pending timers keep their remaining time, as real timers do (they run on the monotonic clock)
    /// when NTP steps the clock or the host resumes from suspend.
    /// </summary>
    public void JumpWallClock(TimeSpan offset)
    {
        lock (gate)
        {
            now += offset;
            foreach (var timer in timers.Where(t => t.Due is not null))
            {
                timer.Due += offset;
            }
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

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; set; }

        public TimeSpan Period { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner.gate)
            {
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : owner.now + dueTime;
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner.gate)
            {
                Due = null;
                owner.timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
