using System.Text.Json;
using DifyUsageExporter.Cli;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Tests.Dify;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Cli;

public class CheckCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ExporterSettings Settings(Uri url, string password = "Sim-Password-1!") => new()
    {
        DifyBaseUrl = url,
        DifyEmail = "ops@example.com",
        DifyPassword = password,
        DifyFetchRetryCount = 0,
        DifyFetchTimeout = TimeSpan.FromSeconds(10),
    };

    [Fact]
    public async Task Check_succeeds_against_the_simulator_and_prints_json()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, IsSecure = true, Workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 3 }) }, Ct);
        var t = new CliTestEnvironment(Settings(sim.BaseUrl));
        (await CheckCommand.RunAsync(t.Env, json: true, Ct)).ShouldBe(ExitCodes.Success);
        using var doc = JsonDocument.Parse(t.Out.ToString());
        var dify = doc.RootElement.GetProperty("dify");
        dify.GetProperty("ok").GetBoolean().ShouldBeTrue();
        dify.GetProperty("version").GetString().ShouldBe("1.11.1");
        dify.GetProperty("auth").GetString().ShouldBe("cookie");
        dify.GetProperty("password_encoding").GetString().ShouldBe("base64");
        dify.GetProperty("timezone").GetString().ShouldBe("Asia/Tokyo");
        // Archived apps are hidden by Dify; the three unknown-mode apps are listed.
        var generated = sim.Options.Workspace.Apps.Count(a => !a.Archived);
        dify.GetProperty("apps").GetInt32().ShouldBe(generated);
        dify.GetProperty("cookies").EnumerateArray().Select(c => c.GetString()).ShouldContain("__Host-csrf_token");
        t.Out.ToString().ShouldNotContain("Sim-Password-1!");

        var text = new CliTestEnvironment(Settings(sim.BaseUrl));
        (await CheckCommand.RunAsync(text.Env, json: false, Ct)).ShouldBe(ExitCodes.Success);
        text.Out.ToString().ShouldStartWith("Dify: OK");
    }

    [Fact]
    public async Task Check_on_Dify_1_17_names_channel_apps_as_carrying_no_usage_and_unknown_modes_as_not_counted()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Version = "1.17.1", Workspace = WorkspaceGenerator.Generate(GeneratorOptions.ForVersion("1.17.1", 3)) }, Ct);
        var t = new CliTestEnvironment(Settings(sim.BaseUrl));
        (await CheckCommand.RunAsync(t.Env, json: true, Ct)).ShouldBe(ExitCodes.Success);
        using var doc = JsonDocument.Parse(t.Out.ToString());
        var dify = doc.RootElement.GetProperty("dify");
        var ws = sim.Options.Workspace;
        dify.GetProperty("no_usage_apps").EnumerateArray().Select(a => a.GetString()).ShouldBe([.. ws.Apps.Where(a => a.Mode == "channel").Select(a => $"{a.Name} (channel)")]);
        dify.GetProperty("unknown_mode_apps").EnumerateArray().Select(a => a.GetString()).Order().ShouldBe(["Other rag-pipeline (rag-pipeline)", "Other voice-agent (voice-agent)"]);
        dify.GetProperty("agent_apps").GetInt32().ShouldBe(ws.Apps.Count(a => a.Mode == "agent"));
        dify.GetProperty("knowledge_pipelines").GetInt32().ShouldBe(ws.Datasets.Count(d => d.Pipeline is not null));

        var text = new CliTestEnvironment(Settings(sim.BaseUrl));
        (await CheckCommand.RunAsync(text.Env, json: false, Ct)).ShouldBe(ExitCodes.Success);
        text.Out.ToString().ShouldContain("Other channel (channel) carries no usage");
        text.Out.ToString().ShouldContain("Other voice-agent (voice-agent) has a mode this exporter does not know: it will not be counted");
    }

    [Fact]
    public async Task Wrong_password_then_lock_are_diagnosed()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Cookie, Workspace = new SimWorkspace() }, Ct);
        for (var i = 0; i < 5; i++)
        {
            var t = new CliTestEnvironment(Settings(sim.BaseUrl, "wrong-password"));
            (await CheckCommand.RunAsync(t.Env, json: false, Ct)).ShouldBe(ExitCodes.Failure);
            t.Out.ToString().ShouldContain("FAILED (wrong-credentials)");
            t.Out.ToString().ShouldContain("DIFY_PASSWORD");
            t.Out.ToString().ShouldNotContain("wrong-password");
        }

        var locked = await DifyDiagnostics.CheckAsync(Settings(sim.BaseUrl), new SecretRegistry(), new FakeLogs(), TimeProvider.System, null, Ct);
        locked.Failure.ShouldBe(DifyCheckFailure.AccountLocked);
        // One attempt per check: five wrong passwords and the refused sixth.
        sim.Counters.LoginFailures.ShouldBe(6);
    }

    [Fact]
    public async Task No_workspace_refused_connection_timeout_and_tls_are_diagnosed()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Legacy, AccountHasNoWorkspace = true, Workspace = new SimWorkspace() }, Ct);
        var secrets = new SecretRegistry();
        var logs = new FakeLogs();
        (await DifyDiagnostics.CheckAsync(Settings(sim.BaseUrl), secrets, logs, TimeProvider.System, null, Ct)).Failure.ShouldBe(DifyCheckFailure.NoWorkspace);

        // A port nothing listens on: bind one, note it, release it.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        (await DifyDiagnostics.CheckAsync(Settings(new Uri($"http://127.0.0.1:{port}")), secrets, logs, TimeProvider.System, null, Ct)).Failure.ShouldBe(DifyCheckFailure.ConnectionRefused);

        // https against a plain-HTTP server: the TLS handshake fails.
        var https = new UriBuilder(sim.BaseUrl) { Scheme = "https" }.Uri;
        (await DifyDiagnostics.CheckAsync(Settings(https), secrets, logs, TimeProvider.System, null, Ct)).Failure.ShouldBe(DifyCheckFailure.Tls);

        await using var slow = await DifySimulator.StartAsync(new DifySimulatorOptions { Latency = TimeSpan.FromSeconds(3), Workspace = new SimWorkspace() }, Ct);
        var timeout = await DifyDiagnostics.CheckAsync(Settings(slow.BaseUrl) with { DifyFetchTimeout = TimeSpan.FromMilliseconds(300) }, secrets, logs, TimeProvider.System, null, Ct);
        timeout.Failure.ShouldBe(DifyCheckFailure.Timeout);
        timeout.Fix!.ShouldContain("DIFY_FETCH_TIMEOUT_MS");
    }

    [Fact]
    public async Task Session_refused_after_login_is_a_cookie_csrf_problem()
    {
        var time = new FakeClock(new DateTimeOffset(2025, 11, 22, 0, 0, 0, TimeSpan.Zero), FakeTimers.Real);
        var fake = new FakeDify(time, FakeAuthMode.Cookie)
        {
            Intercept = r => r.RequestUri!.AbsolutePath.EndsWith("/profile", StringComparison.Ordinal)
                ? FakeDify.Error(System.Net.HttpStatusCode.Unauthorized, "unauthorized", "CSRF token is missing or invalid.")
                : null,
        };
        var result = await DifyDiagnostics.CheckAsync(DifyAuthTests.Settings(), new SecretRegistry(), new FakeLogs(), time, fake, Ct);
        result.Failure.ShouldBe(DifyCheckFailure.CookieCsrf);
        result.FailureClass.ShouldBe("cookie-csrf");
        result.Fix!.ShouldContain("X-CSRF-Token");
        fake.Logins.ShouldBe(1);
    }

    [Fact]
    public void Dns_failures_are_recognised()
    {
        var settings = Settings(new Uri("http://dify.invalid"));
        var ex = new DifyApiException("x", "/", null, "transport", null, new HttpRequestException(HttpRequestError.NameResolutionError, "Name or service not known", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound)));
        DifyDiagnostics.Diagnose(ex, settings).Failure.ShouldBe(DifyCheckFailure.Dns);
        DifyDiagnostics.Diagnose(new DifyApiException("x", "/console/api/login", 404, "not_found", null), settings).Failure.ShouldBe(DifyCheckFailure.NotDify);
    }
    [Fact]
    public async Task Check_api_meter_and_dify_together_report_both_and_a_bad_meter_token_fails_the_check()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Legacy, Workspace = new SimWorkspace() }, Ct);
        await using var meter = await global::Simulators.Meter.FakeApiMeter.StartAsync("meter-token-good-1");
        ExporterSettings WithMeter(string token) => Settings(sim.BaseUrl) with
        {
            ExternalApiUrl = meter.Url,
            ExternalApiToken = token,
            ApiMeterTenantId = Guid.Parse("00000000-0000-4000-8000-000000000001"),
        };

        var good = new CliTestEnvironment(WithMeter("meter-token-good-1"));
        (await CheckCommand.RunAsync(good.Env, json: true, dify: true, apiMeter: true, Ct)).ShouldBe(ExitCodes.Success);
        using (var doc = JsonDocument.Parse(good.Out.ToString()))
        {
            doc.RootElement.GetProperty("dify").GetProperty("ok").GetBoolean().ShouldBeTrue();
            var apiMeter = doc.RootElement.GetProperty("api_meter");
            apiMeter.GetProperty("ok").GetBoolean().ShouldBeTrue();
            apiMeter.GetProperty("token_accepted").GetBoolean().ShouldBeTrue();
        }

        // The probe writes no usage data.
        meter.Rows().ShouldBeEmpty();

        var bad = new CliTestEnvironment(WithMeter("meter-token-wrong-2"));
        (await CheckCommand.RunAsync(bad.Env, json: false, dify: false, apiMeter: true, Ct)).ShouldBe(ExitCodes.Failure);
        bad.Out.ToString().ShouldStartWith("API_Meter: FAILED");
        bad.Out.ToString().ShouldNotContain("Dify:");
        bad.Out.ToString().ShouldNotContain("meter-token-wrong-2");
    }
}
