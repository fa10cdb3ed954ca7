using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Cli;

/// <summary>
/// Commands that write the ledger, watermarks or spool take the same cross-process lock as the
/// daemon's cycle (the file lock, or on PostgreSQL the advisory lock every replica uses), so a
/// manual command never interleaves with a running cycle.
/// </summary>
internal static class CommandLock
{
    public static CycleLock Acquire(StateStore store, string command) =>
        CycleLock.TryAcquire(store) ?? throw new CliException(
            $"'{command}' refused: another process is running an export cycle (lock {CycleLock.Describe(store)} is held). " +
            "Wait for it to finish (see the daemon's logs or GET /health) and try again.");

    /// <summary>The file lock of DATA_DIR, for <c>restore</c>, which does not open the live store.</summary>
    public static CycleLock Acquire(string dataDir, string command) =>
        CycleLock.TryAcquire(dataDir) ?? throw new CliException(
            $"'{command}' refused: another process is running an export cycle (lock {Path.Combine(Path.GetFullPath(dataDir), CycleLock.FileName)} is held). " +
            "Wait for it to finish (see the daemon's logs or GET /health) and try again.");
}
