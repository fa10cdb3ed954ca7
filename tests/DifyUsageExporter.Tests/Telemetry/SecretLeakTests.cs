using System.CommandLine;
using DifyUsageExporter.Cli;
using DifyUsageExporter.Sync;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Telemetry;

/// <summary>Known secret values fed through every output path must never appear in what is written.</summary>
public class SecretLeakTests
{
    // Registered through the configuration.
    private const string Password = ValidConfig.Password;
    private const string MeterToken = ValidConfig.MeterToken;
    private const string ApiToken = "dify-admin-key-Known-Secret";
    private const string Webhook = "https://hooks.example.com/services/T000/Known-Secret-Hook";

    // Never registered: only the patterns can catch these.
    private const string SessionCookie = "sess-Unregistered-Cookie-777";
    private const string AccessToken = "eyJ-Unregistered-Access-888";
    private const string RefreshToken = "Unregistered-Refresh-999";
    private const string CsrfToken = "Unregistered-Csrf-111";
    private const string BodyPassword = "Unregistered Body Password";
    private const string BearerToken = "Unregistered-Bearer-222";

    private static readonly string[] AllSecrets = [Password, MeterToken, ApiToken, Webhook, SessionCookie, AccessToken, RefreshToken, CsrfToken, BodyPassword, BearerToken];

    private static readonly string Leaky =
        $"pw={Password} token {MeterToken} admin {ApiToken} hook {Webhook} Cookie: session={SessionCookie}; x=y " +
        $"Set-Cookie: refresh_token={RefreshToken}; Path=/ access_token={AccessToken}&csrf_token={CsrfToken} " +
        $"{{\"email\":\"a@b.c\",\"password\":\"{BodyPassword}\"}} Authorization: Bearer {BearerToken}";

    private static Dictionary<string, string> Variables(string dir)
    {
        var env = ValidConfig.Variables(dir);
        env["DIFY_API_TOKEN"] = ApiToken;
        env["DIFY_WORKSPACE_ID"] = "3f1c1a52-9a0f-4a8e-b6f1-7d0b8cf6f0a1";
        env["NOTIFY_WEBHOOK_URL"] = Webhook;
        return env;
    }

    private static void AssertClean(string output)
    {
        foreach (var secret in AllSecrets)
        {
            output.ShouldNotContain(secret, Case.Sensitive, $"secret leaked: {secret}");
        }
    }

    [Fact]
    public void Log_messages_structured_fields_scopes_and_exceptions_are_masked()
    {
        using var dir = new TempDir();
        var cli = new CapturedEnvironment(Variables(dir.Path), dir.Path);
        var settings = cli.Env.LoadSettings();
        using var factory = cli.Env.CreateLoggerFactory(settings, cli.Out);
        var logger = factory.CreateLogger("DifyUsageExporter.Test");

        using (logger.BeginScope(new Dictionary<string, object?> { ["header"] = $"Cookie: {SessionCookie}" }))
        {
            logger.LogError(new HttpRequestException("HTTP 401 body: " + Leaky, new InvalidOperationException(Leaky)), "Request failed: " + Leaky);
            logger.LogInformation("Field {Body} and {Token}", Leaky, $"Bearer {BearerToken}");
        }

        var output = cli.Out.ToString();
        output.ShouldContain("***");
        AssertClean(output);
        JsonLogAssert.EveryLineHasExactlyFourFields(output);
    }

    [Fact]
    public void Config_dump_and_daemon_start_up_dump_are_masked()
    {
        using var dir = new TempDir();
        var cli = new CapturedEnvironment(Variables(dir.Path), dir.Path);

        cli.Run("config").ShouldBe(0);
        var runner = new FailingRunner();
        CliApp.Run(["run", "--once"], cli.Env, (_, _, _, _) => runner).ShouldBe(1);

        AssertClean(cli.Out.ToString() + cli.Error.ToString());
    }

    [Fact]
    public void A_cycle_that_throws_with_secrets_and_an_http_error_body_is_logged_masked()
    {
        using var dir = new TempDir();
        var cli = new CapturedEnvironment(Variables(dir.Path), dir.Path);

        CliApp.Run(["run", "--once"], cli.Env, (_, _, _, _) => new FailingRunner()).ShouldBe(1);

        var output = cli.Out.ToString();
        output.ShouldContain("HTTP 500");
        AssertClean(output);
        JsonLogAssert.EveryLineHasExactlyFourFields(output);
    }

    [Fact]
    public void Cli_errors_and_configuration_problems_are_masked()
    {
        using var dir = new TempDir();
        var env = Variables(dir.Path);
        env["HEALTHCHECK_HOST"] = $"bad host {Password}";
        var cli = new CapturedEnvironment(env, dir.Path);
        cli.Run("config", "--check").ShouldBe(1);

        var root = new RootCommand();
        var failing = new Command("fail");
        failing.SetAction(new Func<ParseResult, int>(_ => throw new CliException("cannot continue: " + Leaky)));
        root.Add(failing);
        CliApp.Run(["fail"], cli.Env, root).ShouldBe(1);
        var crashing = new Command("crash");
        crashing.SetAction(new Func<ParseResult, int>(_ => throw new InvalidOperationException("bug with " + Leaky)));
        root.Add(crashing);
        CliApp.Run(["crash"], cli.Env, root).ShouldBe(1);

        var errors = cli.Error.ToString();
        errors.ShouldContain("HEALTHCHECK_HOST");
        errors.ShouldContain("cannot continue");
        // A bug is one JSON error line, not a plain-text stack trace.
        errors.ShouldContain("\"level\":\"error\",\"message\":\"The exporter failed unexpectedly (InvalidOperationException: bug with");
        errors.ShouldNotMatch(@"(?m)^\s+at ");
        AssertClean(cli.Out.ToString() + errors);
    }

    [Fact]
    public async Task An_http_error_body_printed_by_the_health_command_is_masked()
    {
        using var dir = new TempDir();
        var builder = global::Simulators.LoopbackWeb.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapGet("/health", () => Results.Text(Leaky, statusCode: 503));
        await app.StartAsync(TestContext.Current.CancellationToken);
        var url = app.Urls.Single();
        var cli = new CapturedEnvironment(Variables(dir.Path), dir.Path);
        cli.Env.LoadSettings();

        cli.Run("health", "--url", url + "/health").ShouldBe(1);

        cli.Error.ToString().ShouldContain("503");
        AssertClean(cli.Out.ToString() + cli.Error.ToString());
    }

    private sealed class FailingRunner : ICycleRunner
    {
        public Task<CycleResult> RunCycleAsync(string trigger, string runId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("API_Meter answered HTTP 500 with body: " + Leaky);
    }
}
