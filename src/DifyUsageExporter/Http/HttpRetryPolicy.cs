namespace DifyUsageExporter.Http;

/// <summary>
/// How one client retries: how many times, from which backoff, how long one attempt may take and
/// how long a <c>Retry-After</c> may make it wait. The rule for <em>what</em> is retried is
/// <see cref="HttpTransient"/> and the same for every client.
/// </summary>
public sealed record HttpRetryPolicy
{
    /// <summary>Retries after the first attempt (0 = one attempt, e.g. the Dify login POST).</summary>
    public int MaxRetries { get; init; }

    /// <summary>First backoff delay; doubled per retry, with jitter.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound of a computed backoff delay.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Upper bound of an honoured <c>Retry-After</c> (a server asking for an hour would stall the cycle).</summary>
    public TimeSpan MaxRetryAfter { get; init; } = DefaultMaxRetryAfter;

    /// <summary>How long one attempt (connect, send, read the whole answer) may take.</summary>
    public required TimeSpan AttemptTimeout { get; init; }

    /// <summary>The variable that sets <see cref="AttemptTimeout"/>, named when an attempt times out.</summary>
    public required string TimeoutVariable { get; init; }

    /// <summary>The cap of <c>Retry-After</c> for the Dify client and API_Meter.</summary>
    public static TimeSpan DefaultMaxRetryAfter { get; } = TimeSpan.FromMinutes(2);
}

/// <summary>One retry about to happen: the attempt that failed (1-based), why, and the wait before the next.</summary>
public sealed record HttpRetryNotice(int Attempt, Exception? Exception, int? StatusCode, TimeSpan Delay)
{
    /// <summary>The exception's message, else <c>HTTP 503</c>.</summary>
    public string Problem => Exception?.Message ?? $"HTTP {StatusCode}";
}

/// <summary>An attempt got no complete answer within <see cref="HttpRetryPolicy.AttemptTimeout"/>.</summary>
public sealed class HttpAttemptTimeoutException(string message, Exception? inner = null) : TimeoutException(message, inner);
