using DifyUsageExporter.Configuration;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Configuration;

public sealed class ConfigHygieneTests
{
    [Fact]
    public void A_misspelt_variable_in_the_environment_or_dotenv_is_named_with_the_nearest_known_one()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(Path.Combine(dir.Path, "data"));
        env["CRON_SCHEDUEL"] = "0 1 * * *";
        env["PATH"] = "/usr/bin";
        env["HOSTNAME"] = "box";
        File.WriteAllText(Path.Combine(dir.Path, ".env"), "DIFY_PASWORD=secret-typo-pw\nCOMPOSE_PROJECT_NAME=x\n");

        var warnings = SettingsLoader.Inspect(env, dir.Path).Warnings;

        warnings.ShouldContain(w => w.StartsWith("CRON_SCHEDUEL (in the environment)", StringComparison.Ordinal) && w.Contains("nearest known one is CRON_SCHEDULE"));
        warnings.ShouldContain(w => w.StartsWith("DIFY_PASWORD (in .env)", StringComparison.Ordinal) && w.Contains("nearest known one is DIFY_PASSWORD"));
        warnings.ShouldNotContain(w => w.Contains("PATH") || w.Contains("HOSTNAME") || w.Contains("COMPOSE_PROJECT_NAME"));
        warnings.ShouldNotContain(w => w.Contains("secret-typo-pw"));
    }

    [Fact]
    public void A_key_set_twice_in_dotenv_warns_with_both_lines_and_the_last_wins()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(Path.Combine(dir.Path, "data"));
        env.Remove("LOG_LEVEL");
        File.WriteAllText(Path.Combine(dir.Path, ".env"), "LOG_LEVEL=info\n# comment\nLOG_LEVEL=debug\n");

        var snapshot = SettingsLoader.Inspect(env, dir.Path);

        snapshot.Warnings.ShouldContain(".env: LOG_LEVEL is set 2 times (lines 1, 3); the last one (line 3) is used. Remove the others.");
        snapshot.GetSettingsOrThrow().LogLevel.ShouldBe(LogLevelSetting.Debug);
    }

    [Fact]
    public void Urls_are_shown_without_user_info_and_query_values_and_those_become_secrets()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(Path.Combine(dir.Path, "data"));
        env["USAGE_REPORT_URL"] = "https://report-user:Rep0rtPass@report.example.com/in?key=QueryT0ken&mode=a";
        var secrets = new SecretRegistry();

        var snapshot = SettingsLoader.Inspect(env, dir.Path, secrets);

        var shown = snapshot.Variables.Single(v => v.Spec.Name == "USAGE_REPORT_URL").Display;
        shown.ShouldBe("https://***@report.example.com/in?key=***&mode=***");
        string.Join("\n", snapshot.MaskedDump().Select(kv => kv.Value)).ShouldNotContain("Rep0rtPass");
        secrets.Mask("x Rep0rtPass y QueryT0ken").ShouldBe("x *** y ***");
    }

    [Fact]
    public void An_invalid_value_is_echoed_cut_to_80_characters()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(Path.Combine(dir.Path, "data"));
        env["LOG_LEVEL"] = new string('x', 500);

        var problem = SettingsLoader.Inspect(env, dir.Path).Problems.Single(p => p.StartsWith("LOG_LEVEL", StringComparison.Ordinal));

        problem.ShouldContain("'" + new string('x', 80) + "… (500 characters)'");
        problem.ShouldNotContain(new string('x', 81));
    }

    [Theory]
    [InlineData("CRON_SCHEDUEL", "CRON_SCHEDULE", 1)]
    [InlineData("DIFY_PASWORD", "DIFY_PASSWORD", 1)]
    [InlineData("abc", "abc", 0)]
    [InlineData("kitten", "sitting", 3)]
    public void Distance_counts_edits_and_adjacent_transpositions(string a, string b, int expected) =>
        ConfigHygiene.Distance(a, b).ShouldBe(expected);
}
