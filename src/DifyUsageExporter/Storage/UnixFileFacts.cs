using System.Globalization;
using System.Runtime.InteropServices;

namespace DifyUsageExporter.Storage;

/// <summary>
/// Facts about a path that turn "cannot write the state store" into the operator's fix: the
/// process uid, a file's owner (statx: the one stat call whose layout is the same on every Linux
/// architecture), whether the file system is mounted read-only, and its free space. Every fact is
/// best effort: null when it cannot be read, so a diagnosis never fails itself.
/// </summary>
internal static class UnixFileFacts
{
    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;

    /// <summary>The uid the process runs as, or null (Windows, no libc).</summary>
    public static uint? ProcessUid()
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        try
        {
            return getuid();
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The uid owning <paramref name="path"/>, or null.</summary>
    public static uint? OwnerUid(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        try
        {
            var buffer = new byte[256];
            // struct statx: stx_mask u32, stx_blksize u32, stx_attributes u64, stx_nlink u32, stx_uid u32 (offset 20).
            return statx(AtFdCwd, path, 0, StatxBasicStats, buffer) == 0 ? BitConverter.ToUInt32(buffer, 20) : null;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The mount point holding <paramref name="path"/> when that file system is mounted read-only; null otherwise.</summary>
    public static string? ReadOnlyMount(string path)
    {
        try
        {
            var full = Path.GetFullPath(path);
            string? best = null;
            var readOnly = false;
            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                // id parent major:minor root mount-point mount-options ... (proc(5))
                var fields = line.Split(' ');
                if (fields.Length < 6)
                {
                    continue;
                }

                var mountPoint = fields[4].Replace("\\040", " ", StringComparison.Ordinal);
                var inside = full == mountPoint || mountPoint == "/" || full.StartsWith(mountPoint.TrimEnd('/') + "/", StringComparison.Ordinal);
                if (inside && (best is null || mountPoint.Length >= best.Length))
                {
                    best = mountPoint;
                    readOnly = fields[5].Split(',').Contains("ro", StringComparer.Ordinal);
                }
            }

            return readOnly ? best : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Free bytes for unprivileged users on the file system of <paramref name="directory"/>, or null.</summary>
    public static long? FreeBytes(string directory)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(directory)).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>"uid N" or "an unknown uid".</summary>
    public static string Uid(uint? uid) => uid is { } u ? "uid " + u.ToString(CultureInfo.InvariantCulture) : "an unknown uid";

#pragma warning disable SYSLIB1054 // DllImport: the generated LibraryImport stubs need unsafe code for no gain here.
    [DllImport("libc", SetLastError = true)]
    private static extern uint getuid();

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
#pragma warning restore SYSLIB1054
}
