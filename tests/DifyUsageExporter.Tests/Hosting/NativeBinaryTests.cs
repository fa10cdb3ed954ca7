using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using DifyUsageExporter.Tests.Dify;
using DifyUsageExporter.Tests.Dify.Database;
using DifyUsageExporter.Tests.Telemetry;
using Shouldly;
using Simulators.Dify;
using Simulators.Meter;
using Xunit;

namespace DifyUsageExporter.Tests.Hosting;

/// <summary>
/// The shipped form: the Native AOT executable (<see cref="NativeBinary"/>), where reflection-based
/// JSON and unbound generics fail at run time, not at build time. Every path that serializes or binds
/// runs here once through the real binary: a cycle over every Dify 1.17 app mode (exact against the
/// simulator's truth), OTLP export, the read commands' --json, the daemon's /health, /metrics, dashboard
/// and usage API; and the database source with the PostgreSQL state store.
/// </summary>
public sealed class NativeBinaryTests
{
    private static readonly DateOnly From = new(2026, 6, 23);
    private static readonly DateOnly To = new(2026, 7, 8);
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);
    private const string DashboardPassword = "Dash-Known-Secret-4411";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_native_executable_exports_every_app_mode_exactly_and_serves_its_commands_and_endpoints()
    {
        var app = await NativeBinary.DirectoryAsync();
        using var dir = new TempDir();
        await using var sim = await CurrentDifyAcceptanceTests.StartAsync(91);
        await using var meter = await FakeApiMeter.StartAsync("meter-token-native-1");
        await using var otlp = await OtlpReceiver.StartAsync();
        var variables = Variables(dir.Path, meter, "00000000-0000-4000-8000-000000000091");
        variables["DIFY_API_BASE_URL"] = sim.BaseUrl.ToString();
        variables["DIFY_EMAIL"] = sim.Options.Email;
        variables["DIFY_PASSWORD"] = sim.Options.Password;
        variables["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.HttpEndpoint.ToString();

        (await RunAsync(app, variables, dir.Path, "config", "--check")).Code.ShouldBe(0);
        var config = await RunAsync(app, variables, dir.Path, "config", "--json");
        config.Code.ShouldBe(0, config.Output);
        JsonDocument.Parse(config.Stdout).RootElement.GetProperty("valid").GetBoolean().ShouldBeTrue();

        var run = await RunAsync(app, variables, dir.Path, "run", "--once");
        run.Code.ShouldBe(0, run.Output);
        JsonLogAssert.EveryLineHasExactlyFourFields(run.Stdout);
        MeterEqualsTruth(meter, sim.Truth.ByDayProviderModel(sim.AccountZone, From, To));
        otlp.Spans.ShouldContain(s => s.Name == "export cycle");

        var usage = await RunAsync(app, variables, dir.Path, "usage", "--from", Iso.Day(From), "--to", Iso.Day(To), "--json");
        usage.Code.ShouldBe(0, usage.Output);
        var totals = JsonDocument.Parse(usage.Stdout).RootElement.GetProperty("totals").EnumerateArray().ToList();
        var truth = sim.Truth.Totals(sim.AccountZone, From, To);
        totals.Sum(t => t.GetProperty("total_tokens").GetInt64()).ShouldBe(truth.TotalTokens);
        totals.Sum(t => t.GetProperty("request_count").GetInt64()).ShouldBe(truth.RequestCount);
        var verify = await RunAsync(app, variables, dir.Path, "verify", "--json");
        verify.Code.ShouldBe(0, verify.Output);
        JsonDocument.Parse(verify.Stdout).RootElement.ValueKind.ShouldBe(JsonValueKind.Object);

        await DaemonServesEndpointsAsync(app, variables, dir.Path, truth.TotalTokens);
    }

    [Fact]
    public async Task The_native_executable_reads_Difys_database_and_keeps_its_state_in_PostgreSQL()
    {
        var app = await NativeBinary.DirectoryAsync();
        using var dir = new TempDir();
        var ws = WorkspaceGenerator.Generate(GeneratorOptions.ForVersion("1.17.1", 92));
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
        var difyDatabase = await DatabaseHarness.CreateAsync(ws, zone.Id, Ct);
        var stateDatabase = await PostgresServer.CreateDatabaseAsync(Ct);
        await using var meter = await FakeApiMeter.StartAsync("meter-token-native-2");
        var variables = Variables(dir.Path, meter, "00000000-0000-4000-8000-000000000092");
        variables.Remove("DIFY_API_BASE_URL");
        variables.Remove("DIFY_EMAIL");
        variables.Remove("DIFY_PASSWORD");
        variables["DIFY_SOURCE"] = "database";
        variables["DIFY_DATABASE_URL"] = difyDatabase;
        variables["STATE_DATABASE_URL"] = stateDatabase;

        var run = await RunAsync(app, variables, dir.Path, "run", "--once");
        run.Code.ShouldBe(0, run.Output);
        MeterEqualsTruth(meter, GroundTruth.Compute(ws).ByDayProviderModel(zone, From, To));
        var verify = await RunAsync(app, variables, dir.Path, "verify");
        verify.Code.ShouldBe(0, verify.Output);
    }

    private static async Task DaemonServesEndpointsAsync(string app, Dictionary<string, string> variables, string dir, long totalTokens)
    {
        var port = FreePort();
        variables["HEALTHCHECK_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        variables["DASHBOARD_ENABLED"] = "true";
        variables["DASHBOARD_USER"] = "ops";
        variables["DASHBOARD_PASSWORD"] = DashboardPassword;
        using var daemon = NativeBinary.Start(app, variables, dir, "run");
        (await daemon.WaitForOutputAsync("Health server listening", Limit)).ShouldBeTrue(daemon.Stdout + daemon.Stderr);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using (var health = await http.GetAsync(new Uri("/health", UriKind.Relative), Ct))
        {
            health.StatusCode.ShouldBe(HttpStatusCode.OK);
            var body = JsonDocument.Parse(await health.Content.ReadAsStringAsync(Ct)).RootElement;
            body.GetProperty("status").GetString().ShouldBe("ok");
            body.GetProperty("lastCycle").GetProperty("outcome").GetString().ShouldNotBeNullOrEmpty();
        }

        (await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct)).ShouldContain("dify_exporter_");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:" + DashboardPassword)));
        (await http.GetStringAsync(new Uri("/", UriKind.Relative), Ct)).ShouldContain("<html", Case.Insensitive);
        var api = JsonDocument.Parse(await http.GetStringAsync(new Uri($"/api/usage?from={Iso.Day(From)}&to={Iso.Day(To)}&by=day", UriKind.Relative), Ct)).RootElement;
        api.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("totalTokens").GetInt64()).ShouldBe(totalTokens);
        using (var bad = await http.GetAsync(new Uri("/api/usage?from=yesterday", UriKind.Relative), Ct))
        {
            bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            JsonDocument.Parse(await bad.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("error").GetString().ShouldNotBeNullOrEmpty();
        }

        daemon.Signal("TERM");
        (await daemon.WaitForExitAsync(Limit)).ShouldBe(0, daemon.Stdout + daemon.Stderr);
        (daemon.Stdout + daemon.Stderr).ShouldNotContain(DashboardPassword);
    }

    private static void MeterEqualsTruth(FakeApiMeter meter, IReadOnlyList<TruthDayModelRow> truth)
    {
        truth.Count.ShouldBeGreaterThan(10);
        var rows = meter.Rows().ToDictionary(r => (r.UsageDate, r.Provider, r.Model));
        rows.Count.ShouldBe(truth.Count);
        foreach (var t in truth)
        {
            var row = rows[(Iso.Day(t.Date), t.Provider, t.Model)];
            (row.InputTokens, row.OutputTokens, row.RequestCount).ShouldBe((t.InputTokens, t.OutputTokens, (long)t.RequestCount), $"{t.Date} {t.Provider} {t.Model}");
            row.CostActual.ShouldBe(Math.Round(t.Cost, 7, MidpointRounding.AwayFromZero), $"{t.Date} {t.Provider} {t.Model}");
        }
    }

    private static Dictionary<string, string> Variables(string dir, FakeApiMeter meter, string tenant)
    {
        var variables = ValidConfig.Variables(Path.Combine(dir, "data"));
        variables["EXTERNAL_API_URL"] = meter.Url.ToString();
        variables["EXTERNAL_API_TOKEN"] = meter.Token;
        variables["API_METER_TENANT_ID"] = tenant;
        variables["DIFY_FETCH_PERIOD"] = "custom";
        variables["DIFY_FETCH_START_DATE"] = Iso.Day(From);
        variables["DIFY_FETCH_END_DATE"] = Iso.Day(To);
        variables["DIFY_LOOKBACK_DAYS"] = "0";
        return variables;
    }

    private static async Task<(int Code, string Stdout, string Output)> RunAsync(string app, Dictionary<string, string> variables, string dir, params string[] args)
    {
        using var process = NativeBinary.Start(app, variables, dir, args);
        var code = await process.WaitForExitAsync(Limit);
        return (code, process.Stdout, $"{string.Join(' ', args)}: exit {code}\n{process.Stdout}\n{process.Stderr}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
