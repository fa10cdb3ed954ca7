namespace DifyUsageExporter.Dify;

/// <summary>How one request attempt ended, as far as Dify's load is concerned.</summary>
internal enum RequestSignal
{
    /// <summary>Answered (any status that is not an overload sign, including 4xx).</summary>
    Success,

    /// <summary>429, 5xx, a timeout or a transport failure: Dify (or its proxy) is struggling.</summary>
    Overload,

    /// <summary>Cancelled by the caller: says nothing about Dify.</summary>
    Ignored,
}

/// <summary>The limiter's state for the cycle summary and the tests.</summary>
internal readonly record struct ConcurrencySnapshot(int Limit, int Ceiling, int MinLimit, int MaxLimit, int PeakInFlight, int Decreases);

/// <summary>
/// Bounds the Dify requests in flight with a limit that adapts (additive increase, multiplicative
/// decrease, as TCP congestion control and Netflix's concurrency-limits do): it starts at
/// <see cref="InitialLimit"/> (or the ceiling when lower), halves on 429, 5xx, timeouts and
/// transport failures, shrinks by a quarter when the short-term latency rises well above the
/// long-term average (as Netflix's Gradient2 limit compares them; a long-term average rather than
/// the minimum, so a busy but steady machine's jitter is not mistaken for an overloaded Dify),
/// and grows by one after a full limit's worth of healthy answers while the limit was in use, never
/// beyond the ceiling (DIFY_FETCH_CONCURRENCY) nor below 1. A burst of failures from requests that
/// were already in flight when the limit last dropped counts once, so one bad second does not
/// collapse the limit to 1. Thread-safe; waiters are served first come, first served.
/// </summary>
internal sealed class AdaptiveConcurrencyLimiter
{
    public const int InitialLimit = 8;

    /// <summary>Latency counts as risen when the short-term average is this many times the long-term one ...</summary>
    public const double LatencyRatio = 2.0;

    /// <summary>... and at least this much above it (loopback, LAN and busy-host jitter never trigger it).</summary>
    public static readonly TimeSpan LatencyMargin = TimeSpan.FromMilliseconds(250);

    /// <summary>Weight of a new sample in the short-term (about the last 5 answers) and long-term (about 100) averages.</summary>
    private const double ShortSmoothing = 0.2;
    private const double LongSmoothing = 0.01;

    private readonly Lock gate = new();
    private readonly LinkedList<TaskCompletionSource<Lease>> waiters = new();
    private readonly TimeProvider time;
    private readonly Action<int, int, string>? changed;
    private int limit;
    private int inFlight;
    private long generation;
    private int healthy;
    private bool saturated;
    private double shortMs = double.NaN;
    private double longMs = double.NaN;
    private int minLimit;
    private int maxLimit;
    private int peakInFlight;
    private int decreases;

    /// <param name="ceiling">DIFY_FETCH_CONCURRENCY: the limit never exceeds it.</param>
    /// <param name="time">Clock for request latency.</param>
    /// <param name="changed">Called (outside the lock) with the old limit, the new limit and the reason.</param>
    public AdaptiveConcurrencyLimiter(int ceiling, TimeProvider time, Action<int, int, string>? changed = null)
    {
        Ceiling = Math.Max(1, ceiling);
        this.time = time;
        this.changed = changed;
        limit = Math.Min(InitialLimit, Ceiling);
        minLimit = maxLimit = limit;
    }

    public int Ceiling { get; }

    /// <summary>The current limit.</summary>
    public int Limit
    {
        get
        {
            lock (gate)
            {
                return limit;
            }
        }
    }

    /// <summary>A slot: hand it back to <see cref="Release"/> exactly once.</summary>
    public readonly record struct Lease(long Generation, long StartedAt);

    /// <summary>Waits for a free slot.</summary>
    public Task<Lease> AcquireAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<Lease> waiter;
        LinkedListNode<TaskCompletionSource<Lease>> node;
        lock (gate)
        {
            if (inFlight < limit && waiters.Count == 0)
            {
                return Task.FromResult(Grant());
            }

            waiter = new TaskCompletionSource<Lease>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = waiters.AddLast(waiter);
        }

        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() =>
            {
                bool removed;
                lock (gate)
                {
                    removed = node.List is not null;
                    if (removed)
                    {
                        waiters.Remove(node);
                    }
                }

                if (removed)
                {
                    waiter.TrySetCanceled(cancellationToken);
                }
            });
            _ = waiter.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return waiter.Task;
    }

    /// <summary>Returns a slot and feeds the attempt's outcome (and latency) into the limit.</summary>
    public void Release(Lease lease, RequestSignal signal)
    {
        var latencyMs = time.GetElapsedTime(lease.StartedAt).TotalMilliseconds;
        (int Old, int New, string Reason)? change = null;
        var grants = new List<(TaskCompletionSource<Lease> Waiter, Lease Lease)>();
        lock (gate)
        {
            inFlight--;
            change = signal switch
            {
                RequestSignal.Overload => OnOverload(lease),
                RequestSignal.Success => OnSuccess(lease, latencyMs),
                _ => null,
            };

            while (inFlight < limit && waiters.First is { } first)
            {
                waiters.RemoveFirst();
                grants.Add((first.Value, Grant()));
            }
        }

        foreach (var (waiter, granted) in grants)
        {
            if (!waiter.TrySetResult(granted))
            {
                // Cancelled between removal and grant: give the slot back without a signal.
                Release(granted, RequestSignal.Ignored);
            }
        }

        if (change is { } c)
        {
            changed?.Invoke(c.Old, c.New, c.Reason);
        }
    }

    /// <summary>Limits seen since the last <see cref="ResetStatistics"/>.</summary>
    public ConcurrencySnapshot Snapshot()
    {
        lock (gate)
        {
            return new ConcurrencySnapshot(limit, Ceiling, minLimit, maxLimit, peakInFlight, decreases);
        }
    }

    /// <summary>Starts the statistics of a new extraction (the limit itself carries over).</summary>
    public void ResetStatistics()
    {
        lock (gate)
        {
            minLimit = maxLimit = limit;
            peakInFlight = inFlight;
            decreases = 0;
        }
    }

    private Lease Grant()
    {
        inFlight++;
        if (inFlight >= limit)
        {
            saturated = true;
        }

        peakInFlight = Math.Max(peakInFlight, inFlight);
        return new Lease(generation, time.GetTimestamp());
    }

    private (int, int, string)? OnOverload(Lease lease)
    {
        // Requests that started before the last decrease reflect the old limit: one decrease per round.
        return lease.Generation == generation ? Decrease(0.5, "429, 5xx, timeout or connection failure") : null;
    }

    private (int, int, string)? OnSuccess(Lease lease, double latencyMs)
    {
        if (lease.Generation != generation)
        {
            return null;
        }

        // The long-term average follows slowly (and is compared before this sample moves it much).
        var baseline = double.IsNaN(longMs) ? latencyMs : longMs;
        longMs = baseline + (LongSmoothing * (latencyMs - baseline));
        shortMs = double.IsNaN(shortMs) ? latencyMs : shortMs + (ShortSmoothing * (latencyMs - shortMs));
        healthy++;
        if (shortMs > baseline * LatencyRatio && shortMs - baseline > LatencyMargin.TotalMilliseconds)
        {
            // Rising latency: Dify queues requests. Shrink once a few answers confirm it; never grow meanwhile.
            return healthy >= Math.Min(limit, 4) ? Decrease(0.75, FormattableString.Invariant($"latency {shortMs:0} ms against a long-term {baseline:0} ms")) : null;
        }

        if (healthy < limit || !saturated || limit >= Ceiling)
        {
            return null;
        }

        var old = limit;
        limit++;
        maxLimit = Math.Max(maxLimit, limit);
        healthy = 0;
        saturated = false;
        return (old, limit, "healthy answers at the full limit");
    }

    private (int, int, string)? Decrease(double factor, string reason)
    {
        var old = limit;
        limit = Math.Max(1, (int)Math.Floor(limit * factor));
        generation++;
        healthy = 0;
        saturated = false;
        shortMs = double.NaN;
        decreases++;
        minLimit = Math.Min(minLimit, limit);
        return old == limit ? null : (old, limit, reason);
    }
}
