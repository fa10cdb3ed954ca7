using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Hosting;

/// <summary>
/// The Docker image cannot be built here, so its contract is tested on what its build stage publishes
/// (the Native AOT executable, <see cref="NativeBinary"/>):
/// run as a non-root user with a data directory like /app/data; the health command succeeds
/// against the running daemon; an unwritable data directory gives the clear error and exit 1.
/// </summary>
public class ContainerContractTests
{
    private const string User = "dify-exporter-test";

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task The_published_executable_runs_as_a_non_root_user_with_a_data_volume()
    {
        var isRoot = Environment.UserName == "root";
        Assert.SkipUnless(isRoot || Run("id", "-u", User) == 0, $"needs root (to create the user) or an existing user '{User}'");
        if (Run("id", "-u", User) != 0)
        {
            Run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", User).ShouldBe(0);
        }

        using var dir = new TempDir();
        var publish = Path.Combine(dir.Path, "app");
        Directory.CreateDirectory(publish);
        foreach (var file in Directory.GetFiles(await NativeBinary.DirectoryAsync()).Where(f => !f.EndsWith(".dbg", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(publish, Path.GetFileName(file)));
        }

        // What the image runs: the native executable alone, no `dotnet` host and no managed assembly.
        File.Exists(Path.Combine(publish, "dify-usage-exporter.dll")).ShouldBeFalse();
        var data = Path.Combine(publish, "data");
        Directory.CreateDirectory(data);
        Run("chown", "-R", User, data).ShouldBe(0);
        Run("chmod", "755", dir.Path).ShouldBe(0);

        var port = FreePort();
        var env = ValidConfig.Variables(data);
        env["HEALTHCHECK_HOST"] = "0.0.0.0";
        env["HEALTHCHECK_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["HOME"] = data;
        using var daemon = AsUser(publish, env, "run");
        (await daemon.WaitForOutputAsync("Health server listening", TimeSpan.FromSeconds(60))).ShouldBeTrue(daemon.Stdout + daemon.Stderr);

        using (var health = AsUser(publish, env, "health"))
        {
            (await health.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(0, health.Stdout + health.Stderr);
            health.Stdout.ShouldContain("\"status\":\"ok\"");
        }

        var database = Path.Combine(data, "exporter.db");
        File.Exists(database).ShouldBeTrue();
        (File.GetUnixFileMode(database) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)).ShouldBe(UnixFileMode.None);
        daemon.Signal("TERM");
        (await daemon.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(0, daemon.Stdout);

        var rootOwned = Path.Combine(publish, "root-owned");
        Directory.CreateDirectory(rootOwned);
        Run("chmod", "755", rootOwned).ShouldBe(0);
        env["DATA_DIR"] = rootOwned;
        using var refused = AsUser(publish, env, "run", "--once");
        (await refused.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(1, refused.Stdout + refused.Stderr);
        refused.Stdout.ShouldContain("is not writable by the user the exporter runs as");
        refused.Stdout.ShouldContain("chown");
        JsonLogAssert.EveryLineHasExactlyFourFields(refused.Stdout);
    }

    private static ExporterProcess AsUser(string publish, Dictionary<string, string> env, params string[] args) =>
        ExporterProcess.StartFile("setpriv", ["--reuid", User, "--regid", User, "--clear-groups", "--", Path.Combine(publish, "dify-usage-exporter"), .. args], env, publish);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static int Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        args.ToList().ForEach(info.ArgumentList.Add);
        using var process = Process.Start(info)!;
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode;
    }
}
