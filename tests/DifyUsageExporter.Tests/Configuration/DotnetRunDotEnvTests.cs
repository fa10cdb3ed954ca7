using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Configuration;

/// <summary>
/// <c>dotnet run --project src/DifyUsageExporter</c> started in a directory (the repository root in
/// the README) reads that directory's <c>.env</c>, as the published binary does; the Web SDK's
/// default would run it in the project directory and miss it (issue 9, item 11).
/// </summary>
public class DotnetRunDotEnvTests
{
    [Fact]
    public async Task Dotnet_run_with_the_project_option_reads_the_env_file_of_the_directory_it_was_started_from()
    {
        using var root = new TempDir();
        var dotEnv = Path.Combine(root.Path, ".env");
        await File.WriteAllTextAsync(dotEnv, "DIFY_API_BASE_URL=http://dotenv-probe.example:1234\nLOG_LEVEL=debug\n", TestContext.Current.CancellationToken);
        var project = Path.Combine(RepositoryRoot(), "src", "DifyUsageExporter");
        // The tests' own build configuration (bin/<Configuration>/net10.0): --no-build runs what CI built.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        using var run = ExporterProcess.StartFile(
            "dotnet",
            ["run", "--project", project, "--no-build", "-c", configuration, "--", "config"],
            // The environment wins over .env: LOG_LEVEL comes from here, the URL from the file.
            new Dictionary<string, string> { ["LOG_LEVEL"] = "warn" },
            root.Path);

        (await run.WaitForExitAsync(TimeSpan.FromMinutes(3))).ShouldBe(0, run.Stdout + run.Stderr);
        run.Stdout.ShouldContain($".env file: {dotEnv}");
        run.Stdout.ShouldMatch(@"(?m)^DIFY_API_BASE_URL\s+\.env\s+http://dotenv-probe\.example:1234\s*$");
        run.Stdout.ShouldMatch(@"(?m)^LOG_LEVEL\s+env\s+warn\s*$");
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "DifyUsageExporter.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Repository root not found above " + AppContext.BaseDirectory);
    }
}
