using System.Diagnostics;
using System.Runtime.InteropServices;

namespace DifyUsageExporter.Tests.Support;

/// <summary>
/// The exporter as the Dockerfile and `dotnet publish -r linux-x64` ship it: one Native AOT executable
/// (the csproj turns AOT on with a runtime identifier). Published once per test run, on first use, into
/// a directory of its own with its own obj/bin (--artifacts-path), so it never touches the build the
/// other tests run from. The publish takes minutes of CPU; only the tests of the shipped binary ask for it.
/// </summary>
public static class NativeBinary
{
    private static readonly Lazy<Task<string>> Published = new(PublishAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The publish directory (holding <c>dify-usage-exporter</c> and the SQLite library).</summary>
    public static Task<string> DirectoryAsync() => Published.Value;

    /// <summary>The executable in <paramref name="directory"/>.</summary>
    public static string Executable(string directory) => Path.Combine(directory, "dify-usage-exporter");

    /// <summary>Starts the published executable as a child process (SIGINT at its default action, as in a shell).</summary>
    public static ExporterProcess Start(string directory, IReadOnlyDictionary<string, string> variables, string workingDirectory, params string[] args) =>
        ExporterProcess.StartFile(Executable(directory), args, variables, workingDirectory);

    private static async Task<string> PublishAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), $"dify-exporter-native-{Environment.ProcessId}");
        var output = Path.Combine(root, "app");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        var rid = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        var project = Path.Combine(Repository.ArchitectureTests.RepositoryRoot(), "src", "DifyUsageExporter", "DifyUsageExporter.csproj");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "publish", project, "-c", "Release", "-r", rid, "-o", output, "--artifacts-path", Path.Combine(root, "artifacts"), "-nologo", "-v", "q" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || !File.Exists(Executable(output)))
        {
            throw new InvalidOperationException($"dotnet publish -r {rid} (Native AOT) failed with exit {process.ExitCode}:\n{await stdout}\n{await stderr}");
        }

        return output;
    }
}
