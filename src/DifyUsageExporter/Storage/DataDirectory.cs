namespace DifyUsageExporter.Storage;

/// <summary>Checks DATA_DIR before anything is written there, with a message that says what to fix.</summary>
public static class DataDirectory
{
    /// <summary>Creates <paramref name="dataDir"/> when missing and proves it is writable.</summary>
    public static void EnsureWritable(string dataDir)
    {
        var full = Path.GetFullPath(dataDir);
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new StoreException($"DATA_DIR {full} does not exist and cannot be created ({ex.GetType().Name}). Create it and give it to the user the exporter runs as (uid {CurrentUid()}), e.g. `mkdir -p {full} && chown {CurrentUid()} {full}`; with Docker, use the named volume of compose.yaml or chown the bind-mounted directory.", ex);
        }

        var probe = Path.Combine(full, $".write-probe-{Environment.ProcessId}");
        try
        {
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new StoreException($"DATA_DIR {full} is not writable by the user the exporter runs as (uid {CurrentUid()}). Fix the ownership, e.g. `chown -R {CurrentUid()} {full}`; with Docker, a bind-mounted host directory must be owned by uid {CurrentUid()} (or use the named volume of compose.yaml).", ex);
        }
    }

    private static string CurrentUid()
    {
        try
        {
            return OperatingSystem.IsWindows() ? "?" : File.ReadAllLines("/proc/self/status")
                .FirstOrDefault(line => line.StartsWith("Uid:", StringComparison.Ordinal))?
                .Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) ?? "?";
        }
        catch (IOException)
        {
            // Only used to make the message more helpful.
            return "?";
        }
    }
}
