using System.Diagnostics;
using Npgsql;

namespace DifyUsageExporter.Tests.Support;

/// <summary>
/// A real PostgreSQL for the database-source tests: <c>DIFY_TEST_POSTGRES</c> (a superuser connection string,
/// set by .ci/run), else a throwaway cluster started once per test run with tests/postgres-cluster.sh
/// (initdb + pg_ctl on a free port, as a non-root user) and stopped when the test process exits.
/// Each test gets its own database.
/// </summary>
public static class PostgresServer
{
    private static readonly Lazy<string> Admin = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    private static string? clusterDir;
    private static int counter;

    /// <summary>The superuser connection string of the server.</summary>
    public static string AdminConnectionString => Admin.Value;

    /// <summary>A new, empty database; returns its superuser connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        // At most 52 characters (7-digit pid, 10-digit counter), under PostgreSQL's 63. It used to be cut
        // to 40, which threw for a test process whose pid had wrapped around to 3 digits (39 characters).
        var name = $"t{Environment.ProcessId}_{Interlocked.Increment(ref counter)}_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = false }.ConnectionString;
    }

    private static string Start()
    {
        if (Environment.GetEnvironmentVariable("DIFY_TEST_POSTGRES") is { Length: > 0 } configured)
        {
            return configured;
        }

        var script = Path.Combine(RepositoryRoot(), "tests", "postgres-cluster.sh");
        clusterDir = Path.Combine(Path.GetTempPath(), $"dify-exporter-pg-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        var (code, output, error) = Run(script, "start", clusterDir);
        if (code != 0)
        {
            throw new InvalidOperationException($"No PostgreSQL for the database-source tests: set DIFY_TEST_POSTGRES or install Debian's postgresql package (initdb, pg_ctl). {script} start said: {error.Trim()}");
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => Run(script, "stop", clusterDir);
        return output.Trim();
    }

    private static (int Code, string Output, string Error) Run(string script, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DifyUsageExporter.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found from " + AppContext.BaseDirectory);
    }
}
