using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Cli;

/// <summary>
/// Commands that write the ledger, watermarks or spool take the same cross-process lock as the
/// daemon's cycle, so a manual command never interleaves with a running cycle.
/// </summary>
internal static class CommandLock
{
    public static CycleLock Acquire(string dataDir, string command) =>
        CycleLock.TryAcquire(dataDir) ?? throw new CliException(
            $"'{command}' refused: another process is running an export cycle (lock {Path.Combine(Path.GetFullPath(dataDir), CycleLock.FileName)} is held). " +
            "Wait for it to finish (see the daemon's logs or GET /health) and try again.");
}
