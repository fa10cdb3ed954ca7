using System.Diagnostics;

namespace DifyUsageExporter.Tests.Support;

/// <summary>
/// Real file-system conditions for the exporter process that a plain temp directory cannot give:
/// a permissive umask (<c>sh -c 'umask 000; exec ...'</c>), a read-only or full file system (a
/// private mount namespace with a read-only bind mount or a tiny tmpfs, via util-linux
/// <c>unshare</c>; nothing outside the child process sees the mounts), and another user
/// (<c>setpriv</c>, when the tests run as root, whom permissions never stop).
/// </summary>
public static class Isolation
{
    private static readonly Lazy<string?> NamespaceProblem = new(ProbeNamespaces);

    public static bool IsRoot { get; } = Run("id", "-u").Output.Trim() == "0";

    /// <summary>Null when private mount namespaces work here, else why not (a test skips with it).</summary>
    public static string? MountNamespaceUnavailable => NamespaceProblem.Value;

    /// <summary>Runs the exporter with <paramref name="args"/> after <paramref name="umask"/> is set.</summary>
    public static ExporterProcess WithUmask(string umask, IReadOnlyDictionary<string, string> variables, string workingDirectory, params string[] args) =>
        ExporterProcess.StartFile("sh", ["-c", $"umask {umask} && exec dotnet \"$0\" \"$@\"", ExporterProcess.DllPath, .. args], variables, workingDirectory);

    /// <summary>Runs <paramref name="setup"/> (shell, as root of a private mount namespace), then the exporter with <paramref name="args"/>.</summary>
    public static ExporterProcess InMountNamespace(string setup, IReadOnlyDictionary<string, string> variables, string workingDirectory, params string[] args) =>
        ExporterProcess.StartFile("unshare", [.. UnshareArguments(), "sh", "-c", $"set -e; {setup}; exec dotnet \"$0\" \"$@\"", ExporterProcess.DllPath, .. args], variables, workingDirectory);

    /// <summary>Runs the exporter as the unprivileged user <c>nobody</c> (65534); needs root.</summary>
    public static ExporterProcess AsNobody(IReadOnlyDictionary<string, string> variables, string workingDirectory, params string[] args) =>
        ExporterProcess.StartFile("setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups", "--", "dotnet", ExporterProcess.DllPath, .. args], variables, workingDirectory);

    /// <summary>Single-quotes <paramref name="value"/> for sh.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public static (int Code, string Output) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        args.ToList().ForEach(info.ArgumentList.Add);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    private static string[] UnshareArguments() => IsRoot ? ["--mount"] : ["--user", "--map-root-user", "--mount"];

    private static string? ProbeNamespaces()
    {
        try
        {
            var dir = Directory.CreateTempSubdirectory("due-ns-").FullName;
            var (code, output) = Run("unshare", [.. UnshareArguments(), "sh", "-c", $"mount -t tmpfs -o size=64k tmpfs {Quote(dir)} && touch {Quote(Path.Combine(dir, "x"))}"]);
            Directory.Delete(dir, recursive: true);
            return code == 0 ? null : $"private mount namespaces are not available here (unshare: {output.Trim()})";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"unshare is not installed ({ex.Message})";
        }
    }
}
