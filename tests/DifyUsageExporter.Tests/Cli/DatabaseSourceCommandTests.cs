using DifyUsageExporter.Tests.Dify.Database;
using Npgsql;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Cli;

/// <summary>DIFY_SOURCE=database as an operator runs it: config, config --check, check --database, usage; the password never shows.</summary>
public class DatabaseSourceCommandTests
{
    private const string DbPassword = "Db-Pa55-Known-Secret-913";

    private static Dictionary<string, string> DatabaseVariables(string dataDir, string url)
    {
        var variables = ValidConfig.Variables(dataDir);
        variables.Remove("DIFY_API_BASE_URL");
        variables.Remove("DIFY_EMAIL");
        variables.Remove("DIFY_PASSWORD");
        variables["DIFY_SOURCE"] = "database";
        variables["DIFY_DATABASE_URL"] = url;
        return variables;
    }

    [Fact]
    public void Database_source_needs_no_console_settings_and_never_shows_the_password()
    {
        using var dir = new TempDir();
        foreach (var url in new[] { $"postgres://exporter_ro:{DbPassword}@db:5432/dify", $"Host=db;Username=exporter_ro;Password={DbPassword};Database=dify" })
        {
            var cli = new CapturedEnvironment(DatabaseVariables(dir.Path, url), dir.Path);
            cli.Run("config", "--check").ShouldBe(0, cli.Error.ToString());
            cli.Run("config").ShouldBe(0);
            var all = cli.Out + cli.Error.ToString();
            all.ShouldContain("DIFY_DATABASE_URL");
            all.ShouldNotContain(DbPassword);
        }
    }

    [Fact]
    public void Missing_or_mysql_DIFY_DATABASE_URL_is_a_configuration_error_naming_it()
    {
        using var dir = new TempDir();
        var missing = DatabaseVariables(dir.Path, "x");
        missing.Remove("DIFY_DATABASE_URL");
        var cli = new CapturedEnvironment(missing, dir.Path);
        cli.Run("config", "--check").ShouldBe(1);
        cli.Error.ToString().ShouldContain("DIFY_DATABASE_URL: is required with DIFY_SOURCE=database");

        var mysql = new CapturedEnvironment(DatabaseVariables(dir.Path, $"mysql://dify:{DbPassword}@db:3306/dify"), dir.Path);
        mysql.Run("config", "--check").ShouldBe(1);
        mysql.Error.ToString().ShouldContain("MySQL-family Dify database (DB_TYPE=mysql) is not supported");
        mysql.Error.ToString().ShouldNotContain(DbPassword);
    }

    [Fact]
    public async Task DIFY_DATABASE_URL_FILE_check_database_and_usage_work_end_to_end()
    {
        using var dir = new TempDir();
        var ws = WorkspaceGenerator.Generate(GeneratorOptions.ForVersion("1.17.1", 81));
        var db = await DatabaseHarness.CreateAsync(ws, "Asia/Tokyo", TestContext.Current.CancellationToken);
        var secretFile = Path.Combine(dir.Path, "dify_database_url");
        File.WriteAllText(secretFile, db + "\n");
        var variables = DatabaseVariables(dir.Path, "unused");
        variables.Remove("DIFY_DATABASE_URL");
        variables["DIFY_DATABASE_URL_FILE"] = secretFile;
        var password = new NpgsqlConnectionStringBuilder(db).Password!;

        var cli = new CapturedEnvironment(variables, dir.Path);
        cli.Run("check").ShouldBe(0, cli.Out.ToString() + cli.Error);
        var checkOut = cli.Out.ToString();
        checkOut.ShouldContain("Dify database: OK");
        checkOut.ShouldContain("node executions are in the database");
        checkOut.ShouldContain(ws.Id.ToString());
        checkOut.ShouldContain("Asia/Tokyo");

        var usage = new CapturedEnvironment(variables, dir.Path);
        usage.Run("usage", "--from", "2026-06-24", "--to", "2026-07-07", "--json").ShouldBe(0, usage.Error.ToString());
        usage.Out.ToString().ShouldContain("\"input_tokens\"");
        (cli.Out + cli.Error.ToString() + usage.Out + usage.Error).ShouldNotContain(password);

        await DatabaseHarness.ExecAsync(db, "DELETE FROM workflow_node_executions");
        var refused = new CapturedEnvironment(variables, dir.Path);
        refused.Run("check", "--database").ShouldBe(1);
        refused.Out.ToString().ShouldContain("FAILED (storagebackend)");
        refused.Out.ToString().ShouldContain("DIFY_SOURCE=console");
    }
}
