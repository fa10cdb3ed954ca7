using System.Data.Common;
using System.Diagnostics;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Telemetry;

namespace DifyUsageExporter.Sync;

/// <summary>The result of trying to run a cycle: refused (lock held elsewhere) or the cycle's result.</summary>
public sealed record CycleAttempt(bool Refused, CycleResult? Result)
{
    /// <summary>The cycle was cancelled (shutdown, or SIGINT/SIGTERM of <c>run --once</c>) and recorded as such.</summary>
    public bool Cancelled { get; init; }

    public static CycleAttempt LockHeld { get; } = new(true, null);
}

/// <summary>
/// Runs one cycle under the cross-process lock: takes <c>DATA_DIR/cycle.lock</c> (or refuses),
/// records start and end in the store, updates <see cref="CycleStatus"/> and the metrics, and
/// logs every line of the cycle with its run id.
/// </summary>
public sealed class CycleExecutor(ICycleRunner runner, StateStore store, CycleStatus status, TimeProvider time, ILogger<CycleExecutor> logger)
{
    public const string Cancelled = "cancelled";

    public string LockFile => CycleLock.Describe(store);

    public async Task<CycleAttempt> RunAsync(string trigger, CancellationToken cancellationToken)
    {
        CycleLock? cycleLock;
        try
        {
            cycleLock = CycleLock.TryAcquire(store);
        }
        catch (DbException ex)
        {
            // PostgreSQL unreachable: no cycle without the lock; nothing was read or written.
            SyncLog.RecordFailed(logger, ex);
            return new CycleAttempt(false, new CycleResult(CycleOutcome.Failed, $"The state store could not be reached to take the cycle lock ({ex.Message}).") { CaughtUp = false });
        }

        using var held = cycleLock;
        if (cycleLock is null)
        {
            SyncLog.LockHeld(logger, trigger, LockFile);
            CycleMetrics.LockRefusals.Add(1);
            return CycleAttempt.LockHeld;
        }

        var runId = Guid.NewGuid().ToString("N")[..16];
        // The root of the cycle's trace (exported over OTLP when configured; see docs/operations.md).
        using var span = ExporterTracing.Source.StartActivity(ExporterTracing.CycleSpan);
        span?.SetTag("dify_exporter.run_id", runId);
        span?.SetTag("dify_exporter.trigger", trigger);
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["runId"] = runId, ["trigger"] = trigger });
        var started = time.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        status.CycleStarted(started);
        await RecordAsync(() => store.RecordCycleStartAsync(runId, trigger, started, CancellationToken.None));
        SyncLog.CycleStarted(logger);

        var (result, outcome) = await InvokeAsync(trigger, runId, cancellationToken);
        var ended = time.GetUtcNow();
        var facts = new CycleFacts(result.CaughtUp, result.AppsSkipped, result.CredentialsRejected ? StateStore.CredentialsFailure : null);
        await RecordAsync(() => store.RecordCycleEndAsync(runId, ended, outcome, result.Summary, facts, CancellationToken.None));
        status.CycleEnded(ended, outcome, result.CaughtUp);
        span?.SetTag("dify_exporter.outcome", outcome);
        if (result.Outcome == CycleOutcome.Failed)
        {
            ExporterTracing.Fail(span, outcome);
        }
        CycleMetrics.Cycles.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        CycleMetrics.CycleDuration.Record(stopwatch.Elapsed.TotalSeconds);
        var level = SyncLog.SummaryLevel(outcome);
        var seconds = Math.Round(stopwatch.Elapsed.TotalSeconds, 3);
        SyncLog.CycleFinished(logger, level, outcome, seconds, result.Summary);
        return new CycleAttempt(false, result) { Cancelled = outcome == Cancelled };
    }

    /// <summary>
    /// At start: closes cycle rows a crashed process left without an outcome as abandoned. Only
    /// when the cycle lock is free, because a held lock means another process's cycle is live.
    /// </summary>
    public async Task<int> CloseAbandonedAsync(CancellationToken cancellationToken)
    {
        using var cycleLock = CycleLock.TryAcquire(store);
        if (cycleLock is null)
        {
            return 0;
        }

        var closed = await store.CloseAbandonedCyclesAsync(time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (closed > 0)
        {
            SyncLog.AbandonedClosed(logger, closed);
        }

        return closed;
    }

    /// <summary>The process exit code for a cycle result: 0 success, 3 spooled, 1 failed.</summary>
    public static int ExitCodeFor(CycleResult result) => result.Outcome switch
    {
        CycleOutcome.Success => 0,
        CycleOutcome.Spooled => 3,
        _ => 1,
    };

    private async Task<(CycleResult Result, string Outcome)> InvokeAsync(string trigger, string runId, CancellationToken cancellationToken)
    {
        try
        {
            var result = await runner.RunCycleAsync(trigger, runId, cancellationToken);
            return (result, result.Outcome.ToString().ToLowerInvariant());
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or HttpRequestException or IOException)
        {
            // Daemon shutdown past GRACEFUL_SHUTDOWN_TIMEOUT, or a signal to `run --once`: the cycle
            // is recorded as cancelled, not crashed.
            SyncLog.CycleCancelled(logger);
            return (new CycleResult(CycleOutcome.Failed, "Cancelled by a stop signal; what was stored stays, the next cycle continues.") { CaughtUp = false }, Cancelled);
        }
        catch (Exception ex)
        {
            // The cycle's own errors end here so the daemon keeps scheduling; logged once, masked.
            SyncLog.CycleCrashed(logger, ex);
            return (new CycleResult(CycleOutcome.Failed, $"Unexpected {ex.GetType().Name}; see the error log line of this run.") { CaughtUp = false }, "failed");
        }
    }

    private async Task RecordAsync(Func<Task> write)
    {
        try
        {
            await write();
        }
        catch (Exception ex) when (ex is DbException or IOException)
        {
            // Cycle history is informational; a store problem shows in /health, the cycle itself goes on.
            SyncLog.RecordFailed(logger, ex);
        }
    }
}
