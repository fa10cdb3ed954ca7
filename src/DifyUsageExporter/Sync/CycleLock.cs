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
            // Mode 0600 whatever the umask, like every file in DATA_DIR (docs/operations.md, "Data directory").
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = 1 };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = Storage.PrivateFiles.FileMode;
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

    public void Dispose() => stream.Dispose();
}
