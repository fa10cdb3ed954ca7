using System.Collections.Concurrent;

namespace Simulators.Dify;

/// <summary>What the simulator has seen, for assertions (thread-safe).</summary>
public sealed class SimCounters
{
    private readonly ConcurrentDictionary<string, int> _byPath = new(StringComparer.Ordinal);
    private int _logins;
    private int _loginFailures;
    private int _refreshes;
    private int _refreshFailures;
    private int _unauthorized;
    private int _total;
    private int _inFlight;
    private int _maxInFlight;
    private readonly ConcurrentQueue<string> _recorded = new();

    // The in-flight timeline (benchmarks/README.md, issue 12's target 2): how long requests were in
    // flight at each level between the first request's start and the last one's end, so a benchmark
    // can tell an exporter that keeps N requests in flight from one that waits between them.
    private readonly Lock _timeline = new();
    private readonly long[] _ticksAtLevel = new long[TimelineLevels];
    private long _firstBegin;
    private long _lastChange;
    private int _level;
    private const int TimelineLevels = 65;

    /// <summary>Successful logins.</summary>
    public int Logins => Volatile.Read(ref _logins);

    /// <summary>Rejected logins of any kind (wrong password, bad encoding, locked, …).</summary>
    public int LoginFailures => Volatile.Read(ref _loginFailures);

    /// <summary>Successful token refreshes.</summary>
    public int Refreshes => Volatile.Read(ref _refreshes);

    public int RefreshFailures => Volatile.Read(ref _refreshFailures);

    /// <summary>401 answers of authenticated endpoints (expired/invalid token, CSRF).</summary>
    public int Unauthorized => Volatile.Read(ref _unauthorized);

    public int TotalRequests => Volatile.Read(ref _total);

    /// <summary>Highest number of requests served at the same time (to check bounded concurrency).</summary>
    public int MaxConcurrentRequests => Volatile.Read(ref _maxInFlight);

    /// <summary>Requests per <c>"METHOD /path"</c> (query excluded), e.g. <c>"GET /console/api/apps"</c>.</summary>
    public IReadOnlyDictionary<string, int> ByPath => _byPath;

    /// <summary>
    /// With <see cref="DifySimulatorOptions.RecordRequests"/>: every GET's path and query in arrival order,
    /// for <c>Simulators replay</c> (the same requests from a client that does nothing else).
    /// </summary>
    public IReadOnlyCollection<string> Recorded => _recorded;

    /// <summary>Requests whose <c>"METHOD /path"</c> contains <paramref name="fragment"/> (ordinal).</summary>
    public int Requests(string fragment) => _byPath.Where(kv => kv.Key.Contains(fragment, StringComparison.Ordinal)).Sum(kv => kv.Value);

    /// <summary>
    /// Seconds with at least one counted request in flight, the time-weighted mean number in flight over
    /// those seconds, and the seconds with 16 or more in flight (all 0 before any request).
    /// </summary>
    public (double SpanSeconds, double MeanInFlight, double SecondsAtOrAbove16) Timeline()
    {
        lock (_timeline)
        {
            var total = _ticksAtLevel.Sum();
            var weighted = _ticksAtLevel.Select((ticks, level) => (double)ticks * level).Sum();
            var atOrAbove16 = _ticksAtLevel.Skip(16).Sum();
            return total == 0 ? (0, 0, 0) : (Seconds(total), weighted / total, Seconds(atOrAbove16));
        }
    }

    /// <summary>Zeroes every counter.</summary>
    public void Reset()
    {
        _byPath.Clear();
        _recorded.Clear();
        _logins = _loginFailures = _refreshes = _refreshFailures = _unauthorized = _total = _maxInFlight = 0;
        lock (_timeline)
        {
            Array.Clear(_ticksAtLevel);
            _firstBegin = _lastChange = 0;
        }
    }

    internal void Record(string pathAndQuery) => _recorded.Enqueue(pathAndQuery);

    internal void Begin(string key)
    {
        _byPath.AddOrUpdate(key, 1, (_, v) => v + 1);
        Interlocked.Increment(ref _total);
        Step(+1);
        var now = Interlocked.Increment(ref _inFlight);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen)
        {
        }
    }

    internal void End()
    {
        Step(-1);
        Interlocked.Decrement(ref _inFlight);
    }

    private void Step(int change)
    {
        lock (_timeline)
        {
            var now = TimeProvider.System.GetTimestamp();
            if (_firstBegin == 0)
            {
                _firstBegin = _lastChange = now;
            }
            else if (_level > 0)
            {
                // Only time with a request in flight counts: the span ends with the last request.
                _ticksAtLevel[Math.Min(_level, TimelineLevels - 1)] += now - _lastChange;
            }

            _lastChange = now;
            _level = Math.Max(0, _level + change);
        }
    }

    private static double Seconds(long ticks) => (double)ticks / TimeProvider.System.TimestampFrequency;

    internal void Login(bool ok) => Interlocked.Increment(ref (ok ? ref _logins : ref _loginFailures));

    internal void Refresh(bool ok) => Interlocked.Increment(ref (ok ? ref _refreshes : ref _refreshFailures));

    internal void Rejected() => Interlocked.Increment(ref _unauthorized);
}
