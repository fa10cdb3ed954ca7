using DifyUsageExporter.Configuration;
using DifyUsageExporter.Tests.Support;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Configuration;

/// <summary>DASHBOARD_* variables: required pairs, cross rules, masking.</summary>
public class ObservabilitySettingsTests
{
    [Fact]
    public void The_dashboard_is_off_by_default()
    {
        using var dir = new TempDir();
        var settings = SettingsLoader.Inspect(ValidConfig.Variables(dir.Path), dir.Path).GetSettingsOrThrow();

        settings.Dashboard.Enabled.ShouldBeFalse();
    }

    [Fact]
    public void An_enabled_dashboard_without_user_and_password_is_a_problem_naming_both()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["DASHBOARD_ENABLED"] = "true";

        var problems = SettingsLoader.Inspect(env, dir.Path).Problems;

        problems.ShouldContain(p => p.StartsWith("DASHBOARD_USER: is required when DASHBOARD_ENABLED=true", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("DASHBOARD_PASSWORD: is required when DASHBOARD_ENABLED=true", StringComparison.Ordinal));
    }

    [Fact]
    public void The_dashboard_needs_the_health_server_and_a_user_without_colon()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["DASHBOARD_ENABLED"] = "true";
        env["DASHBOARD_USER"] = "ops:team";
        env["DASHBOARD_PASSWORD"] = "tiny-pw";
        env["HEALTHCHECK_ENABLED"] = "false";

        var snapshot = SettingsLoader.Inspect(env, dir.Path);

        snapshot.Problems.ShouldContain(p => p.StartsWith("DASHBOARD_ENABLED: is true but HEALTHCHECK_ENABLED=false", StringComparison.Ordinal));
        snapshot.Problems.ShouldContain(p => p.StartsWith("DASHBOARD_USER: 'ops:team' contains ':'", StringComparison.Ordinal));
        snapshot.Warnings.ShouldContain(w => w.StartsWith("DASHBOARD_PASSWORD is shorter than 12 characters", StringComparison.Ordinal));
        string.Join("\n", snapshot.Problems.Concat(snapshot.Warnings)).ShouldNotContain("tiny-pw");
    }

    [Fact]
    public void A_dashboard_on_a_public_address_is_valid_but_warned_about()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["DASHBOARD_ENABLED"] = "true";
        env["DASHBOARD_USER"] = "ops";
        env["DASHBOARD_PASSWORD"] = "a-long-enough-password";
        env["HEALTHCHECK_HOST"] = "0.0.0.0";

        var snapshot = SettingsLoader.Inspect(env, dir.Path);

        snapshot.Problems.ShouldBeEmpty();
        snapshot.Settings!.Dashboard.ShouldBe(new DashboardSettings { Enabled = true, User = "ops", Password = "a-long-enough-password" });
        snapshot.Warnings.ShouldContain(w => w.Contains("HEALTHCHECK_HOST=0.0.0.0", StringComparison.Ordinal) && w.Contains("TLS reverse proxy", StringComparison.Ordinal));
    }

    [Fact]
    public void Config_masks_the_dashboard_password()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["DASHBOARD_ENABLED"] = "true";
        env["DASHBOARD_USER"] = "ops";
        env["DASHBOARD_PASSWORD"] = "dashboard-Password-Secret-1";
        var cli = new CapturedEnvironment(env, dir.Path);

        cli.Run("config").ShouldBe(0);

        var output = cli.Out.ToString();
        output.ShouldNotContain("dashboard-Password-Secret-1");
        output.ShouldContain("DASHBOARD_PASSWORD");
    }
}
