using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Hosting;

/// <summary>
/// PLACEHOLDER until the export cycle (ExportCycle) is merged: does nothing but log that no
/// export is wired. Replaced in <see cref="Composition.CycleRunner"/>.
/// </summary>
internal sealed partial class PlaceholderCycleRunner(ILogger<PlaceholderCycleRunner> logger) : ICycleRunner
{
    public Task<CycleResult> RunCycleAsync(string trigger, string runId, CancellationToken cancellationToken)
    {
        NotWired(logger);
        return Task.FromResult(new CycleResult(CycleOutcome.Success, "Placeholder cycle: no export is wired into this build."));
    }

    [LoggerMessage(1900, LogLevel.Warning, "Placeholder cycle: this build has no export cycle wired; nothing was exported")]
    private static partial void NotWired(ILogger logger);
}
