namespace DifyUsageExporter.Sync;

/// <summary>How a cycle ended: <see cref="Spooled"/> = finished, but some data waits in the spool (exit code 3).</summary>
public enum CycleOutcome
{
    Success,
    Spooled,
    Failed,
}

/// <summary>The result of one export cycle, for logs, /health and the exit code.</summary>
public sealed record CycleResult(CycleOutcome Outcome, string Summary)
{
    /// <summary>
    /// Extraction finished for every day and nothing was left pending in the spool (dead letters
    /// aside): a "successful cycle" for /health's lastSuccessAt and RUN_ON_START=missed.
    /// </summary>
    public bool CaughtUp { get; init; } = Outcome == CycleOutcome.Success;

    /// <summary>Apps skipped because their mode is unknown (/health reports degraded).</summary>
    public int AppsSkipped { get; init; }

    /// <summary>Dify rejected the credentials (/health reports failing until a cycle logs in again).</summary>
    public bool CredentialsRejected { get; init; }
}

/// <summary>
/// One export cycle (resend the spool, extract, aggregate, deliver). The daemon's scheduler and
/// <c>run --once</c> call it while holding the cross-process cycle lock.
/// </summary>
public interface ICycleRunner
{
    /// <param name="trigger">schedule, once, manual...</param>
    /// <param name="runId">Correlates every log line of the cycle.</param>
    Task<CycleResult> RunCycleAsync(string trigger, string runId, CancellationToken cancellationToken);
}
