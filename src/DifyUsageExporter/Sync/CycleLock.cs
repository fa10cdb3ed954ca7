namespace DifyUsageExporter.Sync;

/// <summary>
/// The cross-process "one cycle at a time" lock: <c>DATA_DIR/cycle.lock</c> opened with
/// <see cref="FileShare.None"/>, which .NET implements on Linux with an advisory <c>flock</c>.
/// The kernel releases it when the holder exits or is killed, so a crash never leaves a stale lock.
/// </summary>
public sealed class CycleLock : IDisposable
{
    public const string FileName = "cycle.lock";

    private readonly FileStream stream;

    private CycleLock(FileStream stream) => this.stream = stream;

    /// <summary>Takes the lock, or returns null when another process (or cycle) holds it.</summary>
    public static CycleLock? TryAcquire(string dataDir)
    {
        var path = Path.Combine(Path.GetFullPath(dataDir), FileName);
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            return new CycleLock(stream);
        }
        catch (IOException)
        {
            // EWOULDBLOCK from flock surfaces as IOException: somebody else holds the lock.
            return null;
        }
    }

    public void Dispose() => stream.Dispose();
}
