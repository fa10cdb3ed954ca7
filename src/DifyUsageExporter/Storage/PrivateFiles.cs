using System.Globalization;

namespace DifyUsageExporter.Storage;

/// <summary>
/// Everything the exporter creates under DATA_DIR holds the ledger or the spool (the WAL holds the
/// same rows as the database), so files are created 0600 and directories 0700 whatever the process
/// umask (docs/operations.md, "Data directory"). Modes are set explicitly after creation, because a
/// create mode is only ever narrowed by the umask, never widened. SQLite creates <c>-wal</c>,
/// <c>-shm</c> and <c>-journal</c> itself with the mode of the database file, which is why the
/// database is created here, 0600, before SQLite opens it.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Creates <paramref name="path"/> (and missing parents) with mode 0700; an existing directory is left as it is.</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        var missing = new List<string>();
        for (var dir = Path.GetFullPath(path); !Directory.Exists(dir); dir = Path.GetDirectoryName(dir)!)
        {
            missing.Add(dir);
        }

        Directory.CreateDirectory(path, DirectoryMode);
        missing.ForEach(dir => SetMode(dir, DirectoryMode));
    }

    /// <summary>Creates an empty file with mode 0600 unless it exists; returns true when it was created.</summary>
    public static bool CreateFile(string path)
    {
        try
        {
            using (OpenNew(path, FileAccess.Write))
            {
                return true;
            }
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }

    /// <summary>Opens a new file (failing when it exists) with mode 0600.</summary>
    public static FileStream OpenNew(string path, FileAccess access)
    {
        var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = access };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        var stream = new FileStream(path, options);
        SetMode(path, FileMode);
        return stream;
    }

    /// <summary>Opens <paramref name="path"/> for writing, truncating it; a new file gets mode 0600, an existing one keeps its mode.</summary>
    public static FileStream OpenForWriting(string path)
    {
        var options = new FileStreamOptions { Mode = System.IO.FileMode.Create, Access = FileAccess.Write };
        var existed = File.Exists(path);
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        var stream = new FileStream(path, options);
        if (!existed)
        {
            SetMode(path, FileMode);
        }

        return stream;
    }

    /// <summary>Sets the mode exactly (chmod is not subject to the umask). No-op on Windows.</summary>
    public static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    /// <summary>
    /// When <paramref name="path"/> exists and grants anything to group or others, sets it to 0600
    /// (file) or 0700 (directory) and returns a warning naming the path and both modes; null when
    /// nothing was loose. A directory with the sticky bit (a shared one such as /tmp) is never
    /// changed: the warning says to use a private directory instead.
    /// </summary>
    public static string? Tighten(string path, bool directory)
    {
        if (OperatingSystem.IsWindows() || !(directory ? Directory.Exists(path) : File.Exists(path)))
        {
            return null;
        }

        var old = File.GetUnixFileMode(path);
        if ((old & GroupOrOther) == 0)
        {
            return null;
        }

        var what = directory ? "DATA_DIR" : "File";
        if (directory && old.HasFlag(UnixFileMode.StickyBit))
        {
            return $"{what} {path} is a shared directory (mode {Octal(old)}, sticky bit): other users can see the state store's files. Set DATA_DIR to a directory of its own.";
        }

        var wanted = directory ? DirectoryMode : FileMode;
        try
        {
            File.SetUnixFileMode(path, wanted);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return $"{what} {path} has mode {Octal(old)} (readable by other users) and could not be tightened to {Octal(wanted)} ({ex.Message.TrimEnd('.')}). Run `chmod {Octal(wanted)} {path}` as its owner.";
        }

        return $"{what} {path} had mode {Octal(old)} (open to other users); tightened to {Octal(wanted)}: the state store holds the usage ledger.";
    }

    /// <summary>The permission bits as a 4-digit octal string (0755).</summary>
    public static string Octal(UnixFileMode mode) =>
        Convert.ToString((int)mode & 0xFFF, 8).PadLeft(4, '0').ToString(CultureInfo.InvariantCulture);
}
