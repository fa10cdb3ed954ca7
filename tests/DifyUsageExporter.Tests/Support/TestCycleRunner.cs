using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Tests.Support;

/// <summary>A cycle that blocks until the test releases it, counting its calls.</summary>
public sealed class TestCycleRunner : ICycleRunner
{
    private readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<CycleResult> release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int calls;

    public int Calls => Volatile.Read(ref calls);

    public Task Started => started.Task;

    /// <summary>When true the cycle ignores cancellation (a stuck cycle).</summary>
    public bool HonourCancellation { get; init; } = true;

    public void Finish(CycleOutcome outcome = CycleOutcome.Success) => release.TrySetResult(new CycleResult(outcome, "test cycle"));

    public async Task<CycleResult> RunCycleAsync(string trigger, string runId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref calls);
        started.TrySetResult();
        return HonourCancellation ? await release.Task.WaitAsync(cancellationToken) : await release.Task;
    }
}
