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
    /// <summary>200 <c>{"success":false,"error":...}</c> without applying anything (a server-side failure reported in a 2xx).</summary>
    SuccessFalse,
    /// <summary>200 with an HTML page (a proxy's or load balancer's maintenance/login page), nothing applied.</summary>
    Html200,
    /// <summary>200 <c>{"success":true}</c> with every count 0: nothing was stored.</summary>
    CountZero,
    /// <summary>
    /// Validation rejection of the records whose model is <see cref="MeterFault.Model"/>: answers
    /// <see cref="MeterFault.Status"/> (400 or 422) naming <c>records[i].model</c>, applying nothing,
    /// as API_Meter's schema check refuses the whole request when one record is invalid.
    /// </summary>
    RejectModel,
}

public sealed record MeterFault(MeterFaultKind Kind, int Status = 503, string? RetryAfter = null, TimeSpan Delay = default, string? Model = null)
{
    public static MeterFault SuccessFalse { get; } = new(MeterFaultKind.SuccessFalse, 200);
    public static MeterFault Html200 { get; } = new(MeterFaultKind.Html200, 200);
    public static MeterFault CountZero { get; } = new(MeterFaultKind.CountZero, 200);

    /// <summary>Refuse (400 or 422) every request that carries a record of <paramref name="model"/>.</summary>
    public static MeterFault RejectModel(string model, int status = 422) => new(MeterFaultKind.RejectModel, status, Model: model);

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
