using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Cli;

/// <summary>
/// `reconcile` compares with the statistics of Dify's console API: with DIFY_SOURCE=database and no console
/// settings it refuses, naming the variables to add, before touching anything (docs/database-source.md).
/// </summary>
public class ReconcileWithDatabaseSourceTests
{
    [Fact]
    public async Task Reconcile_with_only_the_database_source_configured_names_the_console_settings_it_needs()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(Path.Combine(dir.Path, "data"));
        env.Remove("DIFY_API_BASE_URL");
        env.Remove("DIFY_EMAIL");
        env.Remove("DIFY_PASSWORD");
        env["DIFY_SOURCE"] = "database";
        env["DIFY_DATABASE_URL"] = "postgres://exporter:db-Known-Secret-7@127.0.0.1:9/dify";
        using var run = ExporterProcess.Start(env, dir.Path, "reconcile", "--from", "2026-03-01", "--to", "2026-03-02");

        (await run.WaitForExitAsync(TimeSpan.FromMinutes(2))).ShouldBe(1, run.Stdout + run.Stderr);
        run.Stderr.ShouldContain("DIFY_SOURCE=database");
        run.Stderr.ShouldContain("DIFY_API_BASE_URL");
        run.Stderr.ShouldContain("DIFY_EMAIL/DIFY_PASSWORD");
        (run.Stdout + run.Stderr).ShouldNotContain("db-Known-Secret-7");
        Directory.Exists(Path.Combine(dir.Path, "data")).ShouldBeFalse("nothing is created before the refusal");
    }
}
