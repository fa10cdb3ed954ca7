using DifyUsageExporter.Storage;

namespace DifyUsageExporter.Sync;

/// <summary>
/// The cross-process "one cycle at a time" lock. SQLite: <c>DATA_DIR/cycle.lock</c> opened with
/// <see cref="FileShare.None"/>, which .NET implements on Linux with an advisory <c>flock</c>; the
/// kernel releases it when the holder exits or is killed. PostgreSQL (STATE_DATABASE_URL): a session
/// advisory lock shared by every replica and command on the database, which the server releases
/// when the holder's connection ends (docs/state-postgres.md). A crash never leaves a stale lock.
/// </summary>
public sealed class CycleLock : IDisposable
{
    public const string FileName = "cycle.lock";

    private readonly IDisposable held;

    private CycleLock(IDisposable held) => this.held = held;

    /// <summary>Takes the lock of <paramref name="store"/>'s backend, or returns null when another process (or cycle) holds it.</summary>
    public static CycleLock? TryAcquire(StateStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!store.IsPostgres)
        {
            return TryAcquire(Path.GetDirectoryName(store.Path)!);
        }

        return store.TryAcquirePostgresCycleLock() is { } held ? new CycleLock(held) : null;
    }

    /// <summary>What the lock of <paramref name="store"/> is, for messages: the lock file, or the advisory lock and database.</summary>
    public static string Describe(StateStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.IsPostgres
            ? $"PostgreSQL advisory lock {StateStore.CycleLockKey} on {store.Location}"
            : Path.Combine(Path.GetDirectoryName(store.Path)!, FileName);
    }

    /// <summary>Takes the file lock in <paramref name="dataDir"/>, or returns null when another process (or cycle) holds it.</summary>
    public static CycleLock? TryAcquire(string dataDir)
    {
        var path = Path.Combine(Path.GetFullPath(dataDir), FileName);
        try
        {
            // Mode 0600 whatever the umask, like every file in DATA_DIR (docs/operations.md, "Data directory").
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = 1 };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = PrivateFiles.FileMode;
            }

            var stream = new FileStream(path, options);
            return new CycleLock(stream);
        }
        catch (IOException)
        {
            // EWOULDBLOCK from flock surfaces as IOException: somebody else holds the lock.
            return null;
        }
    }

    public void Dispose() => held.Dispose();
}
