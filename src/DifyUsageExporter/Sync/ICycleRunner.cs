namespace DifyUsageExporter.Sync;

/// <summary>How a cycle ended: <see cref="Spooled"/> = finished, but some data waits in the spool (exit code 3).</summary>
public enum CycleOutcome
{
    Success,
    Spooled,
    Failed,
}

/// <summary>The result of one export cycle, for logs, /health and the exit code.</summary>
public sealed record CycleResult(CycleOutcome Outcome, string Summary);

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
