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

    /// <summary>Requests whose <c>"METHOD /path"</c> contains <paramref name="fragment"/> (ordinal).</summary>
    public int Requests(string fragment) => _byPath.Where(kv => kv.Key.Contains(fragment, StringComparison.Ordinal)).Sum(kv => kv.Value);

    /// <summary>Zeroes every counter.</summary>
    public void Reset()
    {
        _byPath.Clear();
        _logins = _loginFailures = _refreshes = _refreshFailures = _unauthorized = _total = _maxInFlight = 0;
    }

    internal void Begin(string key)
    {
        _byPath.AddOrUpdate(key, 1, (_, v) => v + 1);
        Interlocked.Increment(ref _total);
        var now = Interlocked.Increment(ref _inFlight);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen)
        {
        }
    }

    internal void End() => Interlocked.Decrement(ref _inFlight);

    internal void Login(bool ok) => Interlocked.Increment(ref (ok ? ref _logins : ref _loginFailures));

    internal void Refresh(bool ok) => Interlocked.Increment(ref (ok ? ref _refreshes : ref _refreshFailures));

    internal void Rejected() => Interlocked.Increment(ref _unauthorized);
}
