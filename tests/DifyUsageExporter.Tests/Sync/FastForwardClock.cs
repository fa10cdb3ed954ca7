namespace DifyUsageExporter.Tests.Sync;

/// <summary>
/// A fake clock whose timers fire at once and move the clock forward by their due time, so
/// backoff and Retry-After waits take no real time; the requested delays are recorded.
/// </summary>
public sealed class FastForwardClock : TimeProvider
{
    private readonly Lock gate = new();
    private readonly List<TimeSpan> delays = [];
    private DateTimeOffset now;

    public FastForwardClock(DateTimeOffset start) => now = start;

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

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return now;
        }
    }

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public void Advance(TimeSpan by)
    {
        lock (gate)
        {
            now += by;
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
        if (dueTime == Timeout.InfiniteTimeSpan)
        {
            return new Timer(callback, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        lock (gate)
        {
            delays.Add(dueTime);
            now += dueTime;
        }

        return new Timer(callback, state, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }
}
