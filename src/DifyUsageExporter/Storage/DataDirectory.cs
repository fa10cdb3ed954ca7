namespace DifyUsageExporter.Storage;

/// <summary>Checks DATA_DIR before anything is written there, with a message that says what to fix.</summary>
public static class DataDirectory
{
    /// <summary>The files the exporter keeps directly in DATA_DIR (the state store, its WAL and shared memory, the cycle lock).</summary>
    public static readonly string[] OwnFiles = [StateStore.FileName, StateStore.FileName + "-wal", StateStore.FileName + "-shm", "cycle.lock"];

    /// <summary>
    /// Creates <paramref name="dataDir"/> (mode 0700) when missing and proves it is writable; an
    /// existing DATA_DIR or state file open to other users is tightened (0700/0600). Returns one
    /// warning per tightened path. Throws <see cref="StoreException"/> naming the cause and the fix.
    /// </summary>
    public static IReadOnlyList<string> EnsureWritable(string dataDir)
    {
        var full = Path.GetFullPath(dataDir);
        try
        {
            if (!Directory.Exists(full))
            {
                PrivateFiles.CreateDirectory(full);
            }
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw StoreDiagnosis.Diagnose(ex, full, full);
        }

        if (TryProbe(full) is { } failure)
        {
            throw StoreDiagnosis.Diagnose(failure, full, full);
        }

        var warnings = new List<string>();
        if (PrivateFiles.Tighten(full, directory: true) is { } dirWarning)
        {
            warnings.Add(dirWarning);
        }

        foreach (var name in OwnFiles)
        {
            if (PrivateFiles.Tighten(Path.Combine(full, name), directory: false) is { } fileWarning)
            {
                warnings.Add(fileWarning);
            }
        }

        return warnings;
    }

    /// <summary>Creates and deletes a small file in <paramref name="directory"/>; returns the failure, or null when the directory is writable.</summary>
    public static Exception? TryProbe(string directory)
    {
        var probe = Path.Combine(directory, $".write-probe-{Environment.ProcessId}");
        try
        {
            using (var stream = PrivateFiles.OpenNew(probe, FileAccess.Write))
            {
                stream.Write("ok"u8);
                stream.Flush(flushToDisk: false);
            }

            File.Delete(probe);
            return null;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            try
            {
                File.Delete(probe);
            }
            catch (Exception cleanup) when (cleanup is UnauthorizedAccessException or IOException)
            {
                // The probe may not exist or not be deletable; the failure above is what matters.
            }

            return ex;
        }
    }
}
