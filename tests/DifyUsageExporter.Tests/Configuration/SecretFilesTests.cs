using DifyUsageExporter.Cli;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Configuration;

/// <summary>Every secret variable's _FILE form (Docker/Kubernetes secrets), read from real files.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class SecretFilesTests
{
    public static TheoryData<string> SecretVariables() => new(VariableCatalog.All.Where(v => v.Secret).Select(v => v.Name));

    private static string ValueFor(string name) => name.EndsWith("_URL", StringComparison.Ordinal) ? "https://hooks.example.com/services/T0/B0/fileSecret42" : "fileSecret-" + name.ToLowerInvariant();

    private static readonly string[] KnownSecrets = ["DIFY_PASSWORD", "DIFY_API_TOKEN", "EXTERNAL_API_TOKEN", "NOTIFY_WEBHOOK_URL", "DASHBOARD_PASSWORD"];

    [Fact]
    public void The_catalog_marks_the_known_secrets_so_each_gets_a_FILE_form()
    {
        KnownSecrets.ShouldBeSubsetOf(VariableCatalog.All.Where(v => v.Secret).Select(v => v.Name));
    }

    [Theory]
    [MemberData(nameof(SecretVariables))]
    public void The_FILE_form_reads_the_content_without_the_trailing_newline_and_is_masked(string name)
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(Path.Combine(dir.Path, "data"));
        env.Remove(name);
        var secret = ValueFor(name);
        env[name + "_FILE"] = dir.File("secret.txt", secret + "\r\n");
        var secrets = new SecretRegistry();

        var snapshot = SettingsLoader.Inspect(env, dir.Path, secrets);

        snapshot[name].Value.ShouldBe(secret);
        snapshot[name].SourceLabel.ShouldBe("file");
        snapshot[name].FromName.ShouldBe(name + "_FILE");
        snapshot[name].Display.ShouldBe("***");
        secrets.Mask($"x {secret} y").ShouldBe("x *** y");
        snapshot.Problems.ShouldNotContain(p => p.Contains(name + "_FILE"));
        snapshot.Warnings.ShouldNotContain(w => w.Contains(name + "_FILE"));
    }

    [Fact]
    public void A_relative_path_in_dotenv_works_and_config_shows_the_source_but_never_the_content()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(Path.Combine(dir.Path, "data"));
        env.Remove("DIFY_PASSWORD");
        env.Remove("EXTERNAL_API_TOKEN");
        Directory.CreateDirectory(Path.Combine(dir.Path, "secrets"));
        dir.File("secrets/dify_password", "pw-from-a-file-123\n");
        dir.File("secrets/meter_token", "meter-token-from-file-456\n\n");
        dir.File(".env", "DIFY_PASSWORD_FILE=secrets/dify_password\nEXTERNAL_API_TOKEN_FILE=./secrets/meter_token\n");
        var output = new StringWriter();
        var error = new StringWriter();
        var cli = Composition.CreateEnvironment(env, dir.Path, output, error, TimeProvider.System);

        var code = CliApp.Run(["config"], cli, Composition.CycleRunner);

        code.ShouldBe(ExitCodes.Success, error.ToString());
        cli.LoadSettings().DifyPassword.ShouldBe("pw-from-a-file-123");
        cli.LoadSettings().ExternalApiToken.ShouldBe("meter-token-from-file-456");
        var text = output + error.ToString();
        text.ShouldContain("(as DIFY_PASSWORD_FILE)");
        text.ShouldContain("(as EXTERNAL_API_TOKEN_FILE)");
        text.ShouldNotContain("pw-from-a-file-123");
        text.ShouldNotContain("meter-token-from-file-456");
    }

    [Fact]
    public void Both_forms_set_a_missing_an_unreadable_and_an_empty_file_are_errors_naming_the_variable_never_the_content()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(Path.Combine(dir.Path, "data"));
        env["DIFY_PASSWORD_FILE"] = dir.File("pw", "another-secret-value-789\n");
        env["EXTERNAL_API_TOKEN_FILE"] = Path.Combine(dir.Path, "missing-token");
        env["NOTIFY_WEBHOOK_URL_FILE"] = Directory.CreateDirectory(Path.Combine(dir.Path, "a-directory")).FullName;
        env["DIFY_API_TOKEN_FILE"] = dir.File("empty", "\n");
        env.Remove("EXTERNAL_API_TOKEN");

        var problems = SettingsLoader.Inspect(env, dir.Path).Problems;

        problems.ShouldContain(p => p.StartsWith("DIFY_PASSWORD_FILE: both DIFY_PASSWORD and DIFY_PASSWORD_FILE are set.", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith($"EXTERNAL_API_TOKEN_FILE: the file {Path.Combine(dir.Path, "missing-token")} does not exist.", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("NOTIFY_WEBHOOK_URL_FILE: the file ", StringComparison.Ordinal) && p.Contains("cannot be read"));
        problems.ShouldContain(p => p.StartsWith("DIFY_API_TOKEN_FILE: the file ", StringComparison.Ordinal) && p.Contains("is empty"));
        problems.ShouldAllBe(p => !p.Contains("another-secret-value-789") && !p.Contains(ValidConfig.Password));
    }

    [Fact]
    public void Compose_shows_docker_secrets_as_the_recommended_form()
    {
        var compose = Repository.ReleaseFilesTests.RepositoryText("compose.yaml");

        compose.ShouldContain("secrets:");
        compose.ShouldContain("DIFY_PASSWORD_FILE: /run/secrets/dify_password");
        compose.ShouldContain("EXTERNAL_API_TOKEN_FILE: /run/secrets/external_api_token");
        compose.ShouldContain("recommended");
    }
}
