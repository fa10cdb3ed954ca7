using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Cli;

public class ConfigCommandTests
{
    [Fact]
    public void Check_with_an_empty_environment_exits_1_listing_each_required_variable()
    {
        using var dir = new TempDir();
        var cli = new CapturedEnvironment(new Dictionary<string, string>(), dir.Path);

        var code = cli.Run("config", "--check");

        code.ShouldBe(1);
        var errors = cli.Error.ToString();
        foreach (var name in new[] { "DIFY_API_BASE_URL", "DIFY_EMAIL", "DIFY_PASSWORD", "EXTERNAL_API_URL", "EXTERNAL_API_TOKEN", "API_METER_TENANT_ID" })
        {
            errors.ShouldContain($"  - {name}: ");
        }
    }

    [Fact]
    public void Check_with_a_valid_configuration_exits_0()
    {
        using var dir = new TempDir();
        var cli = new CapturedEnvironment(ValidConfig.Variables(dir.Path), dir.Path);

        cli.Run("config", "--check").ShouldBe(0);
        cli.Out.ToString().ShouldContain("Configuration is valid.");
    }

    [Theory]
    [InlineData("0 0 1 6 *", "UTC")]
    [InlineData("0 0 1 1 *", "UTC")]
    [InlineData("0 0 29 2 *", "UTC")]
    [InlineData("0 0 31 * *", "UTC")]
    [InlineData("0 0 1 */3 *", "UTC")]
    [InlineData("30 2 8 3 *", "America/New_York")]
    [InlineData("@weekly", "Asia/Tokyo")]
    public void Check_accepts_every_schedule_the_daemon_runs(string cron, string zone)
    {
        using var dir = new TempDir();
        var variables = ValidConfig.Variables(dir.Path);
        variables["CRON_SCHEDULE"] = cron;
        variables["CRON_TIMEZONE"] = zone;
        var cli = new CapturedEnvironment(variables, dir.Path);

        cli.Run("config", "--check").ShouldBe(0, cli.Error.ToString());
    }

    [Fact]
    public void Check_rejects_a_schedule_that_never_fires_naming_the_variable()
    {
        using var dir = new TempDir();
        var variables = ValidConfig.Variables(dir.Path);
        variables["CRON_SCHEDULE"] = "0 0 30 2 *";
        var cli = new CapturedEnvironment(variables, dir.Path);

        cli.Run("config", "--check").ShouldBe(1);
        cli.Error.ToString().ShouldContain("CRON_SCHEDULE: '0 0 30 2 *' never fires");
    }

    [Fact]
    public void Config_prints_every_variable_masked_with_its_source()
    {
        using var dir = new TempDir();
        dir.File(".env", $"EXTERNAL_API_TOKEN={ValidConfig.MeterToken}\nMAX_RETRY=4\n");
        var env = ValidConfig.Variables(dir.Path);
        env.Remove("EXTERNAL_API_TOKEN");
        var cli = new CapturedEnvironment(env, dir.Path);

        cli.Run("config").ShouldBe(0);

        var lines = cli.Out.ToString().Split('\n').Select(l => l.TrimEnd()).ToList();
        string Row(string name) => lines.Single(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        Row("EXTERNAL_API_TOKEN").ShouldMatch(@"^EXTERNAL_API_TOKEN\s+\.env\s+\*\*\*$");
        Row("DIFY_PASSWORD").ShouldMatch(@"^DIFY_PASSWORD\s+env\s+\*\*\*$");
        Row("MAX_RETRY").ShouldMatch(@"^MAX_RETRY\s+\.env\s+4$");
        Row("LOG_LEVEL").ShouldMatch(@"^LOG_LEVEL\s+default\s+info$");
        Row("DIFY_API_TOKEN").ShouldMatch(@"^DIFY_API_TOKEN\s+unset\s+\(not set\)$");
        cli.Out.ToString().ShouldNotContain(ValidConfig.MeterToken);
        cli.Out.ToString().ShouldNotContain(ValidConfig.Password);
    }

    [Fact]
    public void Config_works_without_a_complete_configuration()
    {
        using var dir = new TempDir();
        var cli = new CapturedEnvironment(new Dictionary<string, string>(), dir.Path);

        cli.Run("config").ShouldBe(0);
        cli.Out.ToString().ShouldContain("CRON_SCHEDULE");
        cli.Error.ToString().ShouldContain("DIFY_API_BASE_URL");
    }

    [Theory]
    [InlineData(new[] { "--help" }, 0)]
    [InlineData(new[] { "--version" }, 0)]
    [InlineData(new[] { "no-such-command" }, 2)]
    [InlineData(new[] { "run", "--no-such-option" }, 2)]
    public void Help_and_version_work_without_configuration_and_usage_errors_exit_2(string[] args, int expected)
    {
        using var dir = new TempDir();
        var cli = new CapturedEnvironment(new Dictionary<string, string>(), dir.Path);

        cli.Run(args).ShouldBe(expected);
    }

    [Fact]
    public void Run_with_an_invalid_configuration_exits_1_and_logs_each_problem_as_json()
    {
        using var dir = new TempDir();
        var cli = new CapturedEnvironment(new Dictionary<string, string> { ["LOG_LEVEL"] = "loud" }, dir.Path);

        cli.Run("--run-once").ShouldBe(1);

        var output = cli.Out.ToString();
        output.ShouldContain("LOG_LEVEL: 'loud'");
        output.ShouldContain("EXTERNAL_API_TOKEN: is required");
        output.ShouldContain("DIFY_PASSWORD: the console login password is required");
        JsonLogAssert.EveryLineHasExactlyFourFields(output);
    }
}
