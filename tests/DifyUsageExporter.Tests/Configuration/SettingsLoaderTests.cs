using DifyUsageExporter.Configuration;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Configuration;

public class SettingsLoaderTests
{
    private static ConfigurationSnapshot Inspect(Dictionary<string, string> env, TempDir dir) => SettingsLoader.Inspect(env, dir.Path);

    [Fact]
    public void A_valid_configuration_binds_every_typed_setting()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(Path.Combine(dir.Path, "data"));
        env["CRON_SCHEDULE"] = "0 1 * * *";
        env["CRON_TIMEZONE"] = "Asia/Tokyo";
        env["LOG_LEVEL"] = "debug";
        env["GRACEFUL_SHUTDOWN_TIMEOUT"] = "45";
        env["DIFY_FETCH_PERIOD"] = "last_month";
        env["DIFY_FETCH_TIMEOUT_MS"] = "5000";

        var settings = Inspect(env, dir).GetSettingsOrThrow();

        settings.DifyBaseUrl.ShouldBe(new Uri("http://127.0.0.1:9"));
        settings.DifyEmail.ShouldBe("exporter@example.com");
        settings.ApiMeterTenantId.ShouldBe(Guid.Parse("00000000-0000-0000-0000-000000000001"));
        settings.CronTimeZone.Id.ShouldBe("Asia/Tokyo");
        settings.LogLevel.ShouldBe(LogLevelSetting.Debug);
        settings.GracefulShutdownTimeout.ShouldBe(TimeSpan.FromSeconds(45));
        settings.FetchPeriod.ShouldBe(FetchPeriod.LastMonth);
        settings.DifyFetchTimeout.ShouldBe(TimeSpan.FromSeconds(5));
        settings.MaxRetry.ShouldBe(3);
        settings.HealthcheckPort.ShouldBe(0);
    }

    [Fact]
    public void Environment_beats_dotenv_which_beats_the_default_and_each_source_is_reported()
    {
        using var dir = new TempDir();
        dir.File(".env", "LOG_LEVEL=warn\nMAX_RETRY=7 # seven\nCRON_SCHEDULE=\"*/5 * * * *\"\n");
        var env = ValidConfig.Variables(dir.Path);
        env["LOG_LEVEL"] = "error";

        var snapshot = Inspect(env, dir);

        snapshot.Problems.ShouldBeEmpty();
        snapshot["LOG_LEVEL"].Source.ShouldBe(ValueSource.Environment);
        snapshot.Settings!.LogLevel.ShouldBe(LogLevelSetting.Error);
        snapshot["MAX_RETRY"].Source.ShouldBe(ValueSource.DotEnv);
        snapshot.Settings.MaxRetry.ShouldBe(7);
        snapshot.Settings.CronSchedule.ShouldBe("*/5 * * * *");
        snapshot["GRACEFUL_SHUTDOWN_TIMEOUT"].Source.ShouldBe(ValueSource.Default);
        snapshot["GRACEFUL_SHUTDOWN_TIMEOUT"].SourceLabel.ShouldBe("default");
        snapshot["MAX_RETRY"].SourceLabel.ShouldBe(".env");
        snapshot["LOG_LEVEL"].SourceLabel.ShouldBe("env");
        snapshot.DotEnvPath.ShouldBe(Path.Combine(dir.Path, ".env"));
    }

    [Fact]
    public void Aliases_are_accepted_with_a_warning_and_the_canonical_name_wins_within_a_source()
    {
        using var dir = new TempDir();
        dir.File(".env", "MAX_RETRIES=5\nBATCH_SIZE=100\nAPI_METER_BATCH_SIZE=200\n");
        var env = ValidConfig.Variables(dir.Path);
        env.Remove("DIFY_API_BASE_URL");
        env["DIFY_API_URL"] = "https://dify.example.com";

        var snapshot = Inspect(env, dir);

        snapshot.Settings!.DifyBaseUrl.ShouldBe(new Uri("https://dify.example.com"));
        snapshot["DIFY_API_BASE_URL"].FromName.ShouldBe("DIFY_API_URL");
        snapshot.Settings.MaxRetry.ShouldBe(5);
        snapshot.Settings.ApiMeterBatchSize.ShouldBe(200);
        snapshot.Warnings.ShouldContain(w => w.Contains("DIFY_API_URL") && w.Contains("DIFY_API_BASE_URL"));
        snapshot.Warnings.ShouldContain(w => w.Contains("MAX_RETRIES"));
    }

    [Fact]
    public void ENV_FILE_names_another_file_and_a_missing_one_is_a_problem()
    {
        using var dir = new TempDir();
        dir.File("prod.env", "MAX_RETRY=9\n");
        var env = ValidConfig.Variables(dir.Path);
        env["ENV_FILE"] = "prod.env";
        Inspect(env, dir).Settings!.MaxRetry.ShouldBe(9);

        env["ENV_FILE"] = "missing.env";
        Inspect(env, dir).Problems.ShouldHaveSingleItem().ShouldStartWith("ENV_FILE:");
    }

    [Fact]
    public void Every_problem_is_reported_at_once_each_naming_the_variable_and_the_accepted_form()
    {
        using var dir = new TempDir();
        var env = new Dictionary<string, string>
        {
            ["DIFY_API_BASE_URL"] = "not a url",
            ["DIFY_EMAIL"] = "not-an-email",
            ["DIFY_PASSWORD"] = "pw-12345",
            ["EXTERNAL_API_URL"] = "https://meter.example.com/receive",
            ["EXTERNAL_API_TOKEN"] = "tok-12345",
            ["API_METER_TENANT_ID"] = "1234",
            ["CRON_SCHEDULE"] = "0 0 * *",
            ["CRON_TIMEZONE"] = "Mars/Olympus",
            ["LOG_LEVEL"] = "verbose",
            ["MAX_RETRY"] = "many",
            ["GRACEFUL_SHUTDOWN_TIMEOUT"] = "0",
            ["HEALTHCHECK_PORT"] = "70000",
            ["HEALTHCHECK_ENABLED"] = "maybe",
            ["DIFY_FETCH_PERIOD"] = "fortnight",
        };

        var problems = Inspect(env, dir).Problems;

        string[] expected = ["DIFY_API_BASE_URL", "DIFY_EMAIL", "API_METER_TENANT_ID", "CRON_SCHEDULE", "CRON_TIMEZONE", "LOG_LEVEL", "MAX_RETRY", "GRACEFUL_SHUTDOWN_TIMEOUT", "HEALTHCHECK_PORT", "HEALTHCHECK_ENABLED", "DIFY_FETCH_PERIOD"];
        problems.Count.ShouldBe(expected.Length, string.Join("\n", problems));
        foreach (var name in expected)
        {
            problems.ShouldContain(p => p.StartsWith(name + ":", StringComparison.Ordinal) && p.Contains("Accepted:", StringComparison.Ordinal));
        }

        problems.ShouldContain(p => p.StartsWith("LOG_LEVEL:") && p.Contains("error|warn|info|debug"));
        problems.ShouldContain(p => p.StartsWith("DIFY_FETCH_PERIOD:") && p.Contains("current_month"));
    }

    [Fact]
    public void Dify_credentials_need_email_and_password_or_token_and_workspace()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env.Remove("DIFY_PASSWORD");
        Inspect(env, dir).Problems.ShouldHaveSingleItem().ShouldStartWith("DIFY_PASSWORD:");

        env.Remove("DIFY_EMAIL");
        env["DIFY_API_TOKEN"] = "admin-key-123";
        Inspect(env, dir).Problems.ShouldHaveSingleItem().ShouldStartWith("DIFY_WORKSPACE_ID:");

        env["DIFY_WORKSPACE_ID"] = "3f1c1a52-9a0f-4a8e-b6f1-7d0b8cf6f0a1";
        Inspect(env, dir).Problems.ShouldBeEmpty();
    }

    [Fact]
    public void A_custom_period_needs_both_dates_in_order()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["DIFY_FETCH_PERIOD"] = "custom";
        var missing = Inspect(env, dir).Problems;
        missing.Count.ShouldBe(2);
        missing.ShouldContain(p => p.StartsWith("DIFY_FETCH_START_DATE:"));
        missing.ShouldContain(p => p.StartsWith("DIFY_FETCH_END_DATE:"));

        env["DIFY_FETCH_START_DATE"] = "2025-03-10";
        env["DIFY_FETCH_END_DATE"] = "2025-03-01";
        Inspect(env, dir).Problems.ShouldHaveSingleItem().ShouldContain("after");

        env["DIFY_FETCH_END_DATE"] = "2025-03-31";
        var settings = Inspect(env, dir).GetSettingsOrThrow();
        settings.FetchStartDate.ShouldBe(new DateOnly(2025, 3, 10));
        settings.FetchEndDate.ShouldBe(new DateOnly(2025, 3, 31));
    }

    [Theory]
    [InlineData("http://meter.example.com/r", null, false)]
    [InlineData("http://meter.example.com/r", "true", true)]
    [InlineData("http://localhost:8080/r", null, true)]
    [InlineData("http://127.0.0.1:8080/r", null, true)]
    [InlineData("http://[::1]:8080/r", null, true)]
    [InlineData("https://meter.example.com/r", null, true)]
    public void Output_urls_must_be_https_unless_loopback_or_explicitly_allowed(string url, string? allow, bool valid)
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["EXTERNAL_API_URL"] = url;
        env["USAGE_REPORT_URL"] = url;
        if (allow is not null)
        {
            env["ALLOW_INSECURE_HTTP"] = allow;
        }

        var problems = Inspect(env, dir).Problems;

        problems.Count.ShouldBe(valid ? 0 : 2, string.Join("\n", problems));
    }

    [Fact]
    public void The_CA_certificate_file_must_exist()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["DIFY_CA_CERT_FILE"] = "ca.pem";
        Inspect(env, dir).Problems.ShouldHaveSingleItem().ShouldStartWith("DIFY_CA_CERT_FILE:");

        dir.File("ca.pem", "-----BEGIN CERTIFICATE-----");
        Inspect(env, dir).Settings!.DifyCaCertFile.ShouldBe(Path.Combine(dir.Path, "ca.pem"));
    }

    [Fact]
    public void An_inline_comment_in_an_environment_value_is_rejected_once_with_a_clear_message()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["MAX_RETRY"] = "3 # retries";
        env["EXTERNAL_API_URL"] = "https://meter.example.com/receive # production";

        var problems = Inspect(env, dir).Problems;

        problems.Count.ShouldBe(2, string.Join("\n", problems));
        problems.ShouldContain(p => p.StartsWith("MAX_RETRY:") && p.Contains("inline comment"));
        problems.ShouldContain(p => p.StartsWith("EXTERNAL_API_URL:") && p.Contains("inline comment"));
    }

    [Fact]
    public void Legacy_variables_are_accepted_with_a_note()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["NODE_ENV"] = "production";
        env["DIFY_FETCH_DAYS"] = "30";
        env["WATERMARK_FILE_PATH"] = "/app/data/watermark.json";

        var snapshot = Inspect(env, dir);

        snapshot.Problems.ShouldBeEmpty();
        snapshot.Notes.Count.ShouldBe(3);
        snapshot.Notes.ShouldContain(n => n.StartsWith("NODE_ENV"));
    }

    [Fact]
    public void Variables_of_env_example_that_are_missing_produce_a_warning()
    {
        using var dir = new TempDir();
        dir.File(".env.example", "DIFY_API_BASE_URL=https://x\nMAX_RETRY=3\n# LOG_LEVEL=info\nSOMETHING_ELSE=1\n");
        var env = ValidConfig.Variables(dir.Path);

        var warnings = Inspect(env, dir).Warnings;

        warnings.Select(w => w.Split(' ')[0]).ShouldBe(["MAX_RETRY", "SOMETHING_ELSE"], ignoreOrder: true);
        env["MAX_RETRIES"] = "2";
        Inspect(env, dir).Warnings.ShouldNotContain(w => w.StartsWith("MAX_RETRY is listed"));
    }

    [Fact]
    public void A_secret_with_an_invalid_value_is_reported_without_echoing_it_and_registered()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["NOTIFY_WEBHOOK_URL"] = "hooks-secret-value-xyz";
        var secrets = new SecretRegistry();

        var problems = SettingsLoader.Inspect(env, dir.Path, secrets).Problems;

        problems.ShouldHaveSingleItem().ShouldStartWith("NOTIFY_WEBHOOK_URL:");
        problems[0].ShouldNotContain("hooks-secret-value-xyz");
        secrets.Mask("x hooks-secret-value-xyz y " + ValidConfig.Password).ShouldBe("x *** y ***");
    }

    [Fact]
    public void A_dify_url_with_the_console_api_path_is_reduced_to_the_origin()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["DIFY_API_BASE_URL"] = "https://dify.example.com/console/api";

        var snapshot = Inspect(env, dir);

        snapshot.Settings!.DifyBaseUrl.ShouldBe(new Uri("https://dify.example.com/"));
        snapshot.Warnings.ShouldContain(w => w.StartsWith("DIFY_API_BASE_URL"));
    }
}
