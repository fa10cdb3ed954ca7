namespace Simulators.Meter;

/// <summary>What the fake API_Meter does with one request instead of (or besides) answering normally.</summary>
public enum MeterFaultKind
{
    /// <summary>Handle normally (a placeholder in a scripted sequence).</summary>
    None,
    /// <summary>Answer with <see cref="MeterFault.Status"/> (e.g. 503) without applying anything.</summary>
    Status,
    /// <summary>429 with a Retry-After header (<see cref="MeterFault.RetryAfter"/>: seconds or an HTTP-date).</summary>
    TooManyRequests,
    /// <summary>Wait <see cref="MeterFault.Delay"/> before handling normally (beyond the client timeout = a timeout).</summary>
    Slow,
    /// <summary>Close the connection without a response, applying nothing.</summary>
    Abort,
    /// <summary>Apply the UPSERT, then close the connection without a response (killed between send and mark).</summary>
    ApplyThenAbort,
    /// <summary>Apply the UPSERT, then answer 500.</summary>
    ApplyThenError,
}

public sealed record MeterFault(MeterFaultKind Kind, int Status = 503, string? RetryAfter = null, TimeSpan Delay = default)
{
    public static MeterFault Pass { get; } = new(MeterFaultKind.None);
    public static MeterFault ServiceUnavailable { get; } = new(MeterFaultKind.Status, 503);
    public static MeterFault Abort { get; } = new(MeterFaultKind.Abort);
    public static MeterFault ApplyThenAbort { get; } = new(MeterFaultKind.ApplyThenAbort);
    public static MeterFault ApplyThenError { get; } = new(MeterFaultKind.ApplyThenError);

    public static MeterFault Http(int status) => new(MeterFaultKind.Status, status);

    public static MeterFault RateLimited(string retryAfter) => new(MeterFaultKind.TooManyRequests, 429, retryAfter);

    public static MeterFault SlowBy(TimeSpan delay) => new(MeterFaultKind.Slow, Delay: delay);
}

/// <summary>One stored API_Meter row, keyed by (tenant_id, provider, model, usage_date).</summary>
public sealed record MeterRow(
    string TenantId,
    string Provider,
    string Model,
    string UsageDate,
    long InputTokens,
    long OutputTokens,
    long TotalTokens,
    long RequestCount,
    decimal CostActual,
    string Currency,
    string SourceEventId,
    int Writes);

/// <summary>One request as the fake saw it.</summary>
public sealed record MeterRequestLog(
    DateTimeOffset ReceivedAt,
    string Method,
    string Path,
    string? Authorization,
    int Status,
    string Body,
    int RecordCount,
    string? Fault);
