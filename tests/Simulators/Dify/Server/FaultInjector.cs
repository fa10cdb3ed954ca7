namespace Simulators.Dify;

/// <summary>Kinds of injected failures (what Dify or the proxy in front of it can do).</summary>
public enum DifyFaultKind
{
    /// <summary>500 with Dify's JSON envelope <c>{"code":"unknown",…}</c>.</summary>
    InternalServerError,

    /// <summary>502 with nginx's HTML body.</summary>
    BadGatewayHtml,

    /// <summary>504 with nginx's HTML body.</summary>
    GatewayTimeoutHtml,

    /// <summary>429 from a proxy/CDN, HTML body, with <see cref="DifyFault.RetryAfter"/> when set.</summary>
    TooManyRequests,

    /// <summary>Any <see cref="DifyFault.Status"/> with Dify's JSON error envelope (and <see cref="DifyFault.RetryAfter"/> when set).</summary>
    Status,

    /// <summary>Waits <see cref="DifyFault.Delay"/> (real time) and then answers normally: a slow response or, with a short client timeout, a timeout.</summary>
    Delay,

    /// <summary>Aborts the connection without a response.</summary>
    DropConnection,
}

/// <summary>One rule: the next <see cref="Times"/> requests whose path contains <see cref="PathContains"/> fail.</summary>
public sealed class DifyFault
{
    public required string PathContains { get; init; }

    public DifyFaultKind Kind { get; init; }

    /// <summary>Remaining hits; <see cref="int.MaxValue"/> = forever.</summary>
    public int Times { get; set; } = 1;

    public TimeSpan Delay { get; init; }

    /// <summary>Status of <see cref="DifyFaultKind.Status"/>.</summary>
    public int Status { get; init; } = 503;

    /// <summary>Raw <c>Retry-After</c> header value (seconds or an HTTP-date); null = no header.</summary>
    public string? RetryAfter { get; init; }

    /// <summary>Optional HTTP method filter (GET, POST).</summary>
    public string? Method { get; init; }
}

/// <summary>Fault rules consulted for every request, first match wins.</summary>
public sealed class FaultInjector
{
    private readonly List<DifyFault> _rules = [];
    private readonly Lock _gate = new();

    /// <summary>The next <paramref name="times"/> requests whose path contains <paramref name="pathContains"/> get <paramref name="kind"/>.</summary>
    public DifyFault FailNext(string pathContains, DifyFaultKind kind, int times = 1, string? method = null)
        => Add(new DifyFault { PathContains = pathContains, Kind = kind, Times = times, Method = method });

    /// <summary>Delays matching requests by <paramref name="delay"/> (real time) <paramref name="times"/> times.</summary>
    public DifyFault DelayNext(string pathContains, TimeSpan delay, int times = 1)
        => Add(new DifyFault { PathContains = pathContains, Kind = DifyFaultKind.Delay, Delay = delay, Times = times });

    public DifyFault Add(DifyFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        lock (_gate)
        {
            _rules.Add(fault);
        }

        return fault;
    }

    public void Clear()
    {
        lock (_gate)
        {
            _rules.Clear();
        }
    }

    /// <summary>Injected faults not yet consumed.</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _rules.Sum(r => r.Times == int.MaxValue ? 1 : r.Times);
            }
        }
    }

    internal DifyFault? Take(string method, string path)
    {
        lock (_gate)
        {
            var rule = _rules.FirstOrDefault(r => r.Times > 0 && path.Contains(r.PathContains, StringComparison.Ordinal)
                && (r.Method is null || string.Equals(r.Method, method, StringComparison.OrdinalIgnoreCase)));
            if (rule is null)
            {
                return null;
            }

            if (rule.Times != int.MaxValue && --rule.Times == 0)
            {
                _rules.Remove(rule);
            }

            return rule;
        }
    }
}
