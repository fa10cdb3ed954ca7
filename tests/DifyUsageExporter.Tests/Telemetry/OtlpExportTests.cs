using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Web;
using Shouldly;
using Simulators.Dify;
using Simulators.Meter;
using Xunit;

namespace DifyUsageExporter.Tests.Telemetry;

/// <summary>
/// The instruments are process-wide, so these tests run alone (no other test's cycle may add to
/// the counters they read back from the receiver).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OtlpCollection
{
    public const string Name = "OTLP export (not parallel)";
}

/// <summary>
/// A real `run --once` against both simulators with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a real
/// OTLP receiver on loopback: the cycle's spans and metrics arrive with the right names, parents and
/// values; an unreachable collector changes nothing but a warning.
/// </summary>
[Collection(OtlpCollection.Name)]
public sealed class OtlpExportTests
{
    private const string HeaderToken = "otlp-token-Secret-5e2b";
    private static readonly DateOnly From = new(2026, 2, 28);
    private static readonly DateOnly To = new(2026, 3, 16);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_cycle_exports_its_span_tree_and_metrics_over_otlp_http_with_headers_and_resource()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var prometheus = new PrometheusMetrics();
        var (code, log, dify, meterRows) = await RunOnceAsync(new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.HttpEndpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_HEADERS"] = $"Authorization=Bearer%20{HeaderToken}",
            ["OTEL_SERVICE_NAME"] = "exporter-under-test",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=ci,service.namespace=billing",
        });

        code.ShouldBe(0, log);
        log.ShouldContain("OpenTelemetry: exporting metrics and cycle traces to");
        log.ShouldNotContain(HeaderToken);
        receiver.Requests.Select(r => r.Path).Distinct().Order().ShouldBe(["/v1/metrics", "/v1/traces"]);
        receiver.Requests.ShouldAllBe(r => r.Authorization == $"Bearer {HeaderToken}");

        var spans = receiver.Spans.ToList();
        var cycle = spans.Where(s => s.Name == "export cycle").ShouldHaveSingleItem();
        cycle.ParentSpanId.ShouldBeEmpty();
        cycle.Attributes["dify_exporter.trigger"].ShouldBe("once");
        cycle.Attributes["dify_exporter.outcome"].ShouldBe("success");
        cycle.Resource["service.name"].ShouldBe("exporter-under-test");
        cycle.Resource["deployment.environment"].ShouldBe("ci");
        cycle.Resource["service.namespace"].ShouldBe("billing");
        cycle.Resource.Keys.ShouldContain("service.version");

        var apps = spans.Where(s => s.Name == "extract app").ToList();
        apps.ShouldAllBe(s => s.ParentSpanId == cycle.SpanId && s.TraceId == cycle.TraceId);
        var appsWithUsage = dify.Truth.EventsIn(dify.AccountZone, From, To).Select(e => e.AppId.ToString()).Distinct().ToList();
        appsWithUsage.Count.ShouldBeGreaterThan(3);
        apps.Select(s => s.Attributes["dify.app.id"]).ShouldBeSubsetOf(dify.Options.Workspace.Apps.Select(a => a.Id.ToString()));
        appsWithUsage.ShouldBeSubsetOf(apps.Select(s => s.Attributes["dify.app.id"]));

        var deliveries = spans.Where(s => s.Name == "deliver batch").ToList();
        deliveries.ShouldNotBeEmpty();
        deliveries.ShouldAllBe(s => s.ParentSpanId == cycle.SpanId && s.TraceId == cycle.TraceId && s.Attributes["dify_exporter.target"] == "api_meter");
        deliveries.Sum(s => long.Parse(s.Attributes["dify_exporter.records"], CultureInfo.InvariantCulture)).ShouldBe(meterRows);

        // Cumulative sums: the last export holds the totals of the run.
        Last(receiver, "dify_exporter_cycles_total", "sum", ("outcome", "success")).Value.ShouldBe(1);
        Last(receiver, "dify_exporter_records_delivered_total", "sum").Value.ShouldBe(meterRows);
        var duration = Last(receiver, "dify_exporter_cycle_duration_seconds", "histogram");
        duration.Count.ShouldBe(1UL);
        duration.Value.ShouldBeGreaterThan(0);
        Last(receiver, "dify_exporter_last_success_timestamp_seconds", "gauge").Value.ShouldBe(TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(), 600);
        Last(receiver, "dify_exporter_cycle_running", "gauge").Value.ShouldBe(0);

        // The same names as GET /metrics.
        using var renderDir = new TempDir();
        using var renderStore = DifyUsageExporter.Storage.StateStore.Open(renderDir.Path, TimeProvider.System);
        var text = prometheus.Render(new CycleStatus { StartedAt = TimeProvider.System.GetUtcNow() }, renderStore, TimeProvider.System);
        foreach (var name in receiver.Points.Select(p => p.Metric).Distinct().Where(n => !n.StartsWith("dify_exporter_last_", StringComparison.Ordinal) && n != "dify_exporter_next_run_timestamp_seconds"))
        {
            text.ShouldContain(name, customMessage: $"{name} is exported over OTLP but not in /metrics");
        }
    }

    [Fact]
    public async Task Otlp_grpc_is_honoured_too()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var (code, log, _, _) = await RunOnceAsync(new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.GrpcEndpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",
        });

        code.ShouldBe(0, log);
        receiver.Requests.ShouldContain(r => r.Path == "/opentelemetry.proto.collector.trace.v1.TraceService/Export" && r.Protocol == "HTTP/2");
        receiver.Spans.ShouldContain(s => s.Name == "export cycle" && s.Resource["service.name"] == "dify-usage-exporter");
        Last(receiver, "dify_exporter_cycles_total", "sum", ("outcome", "success")).Value.ShouldBe(1);
    }

    [Fact]
    public async Task An_unreachable_collector_never_stops_the_export_and_is_reported_as_a_warning()
    {
        var port = FreePort();
        var watch = Stopwatch.StartNew();
        var (code, log, _, meterRows) = await RunOnceAsync(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}" });

        code.ShouldBe(0, log);
        meterRows.ShouldBeGreaterThan(10);
        log.ShouldContain("\"outcome\":\"success\"");
        log.ShouldContain($"OpenTelemetry: export to http://127.0.0.1:{port}/ failed");
        log.ShouldContain("the usage export is not affected");
        // Shutdown waits for the collector at most a few seconds per signal.
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(90));
    }

    private static async Task<(int Code, string Log, DifySimulator Dify, long MeterRows)> RunOnceAsync(Dictionary<string, string> otel)
    {
        var dify = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 11 }) }, Ct);
        await using var meter = await FakeApiMeter.StartAsync("meter-token-otlp-test-1");
        using var dir = new TempDir();
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["DIFY_API_BASE_URL"] = dify.BaseUrl.ToString(),
            ["DIFY_EMAIL"] = dify.Options.Email,
            ["DIFY_PASSWORD"] = dify.Options.Password,
            ["DIFY_FETCH_RETRY_COUNT"] = "1",
            ["DIFY_FETCH_RETRY_DELAY_MS"] = "100",
            ["DIFY_FETCH_PERIOD"] = "custom",
            ["DIFY_FETCH_START_DATE"] = From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["DIFY_FETCH_END_DATE"] = To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["DIFY_LOOKBACK_DAYS"] = "0",
            ["EXTERNAL_API_URL"] = meter.Url.ToString(),
            ["EXTERNAL_API_TOKEN"] = "meter-token-otlp-test-1",
            ["API_METER_TENANT_ID"] = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
            ["DATA_DIR"] = Path.Combine(dir.Path, "data"),
        };
        foreach (var (key, value) in otel)
        {
            variables[key] = value;
        }

        var log = new ConcurrentWriter();
        var env = Composition.CreateEnvironment(variables, dir.Path, log, log, TimeProvider.System);
        var code = await new Daemon(env, Composition.CycleRunner).RunAsync(once: true, Ct);
        var rows = meter.Rows().Count;
        await dify.DisposeAsync();
        return (code, log.ToString(), dify, rows);
    }

    private static ReceivedPoint Last(OtlpReceiver receiver, string metric, string kind, params (string Key, string Value)[] attributes)
    {
        var points = receiver.Points.Where(p => p.Metric == metric && p.Kind == kind && attributes.All(a => p.Attributes.GetValueOrDefault(a.Key) == a.Value)).ToList();
        points.ShouldNotBeEmpty($"no {kind} point of {metric} arrived; got {string.Join(", ", receiver.Points.Select(p => p.Metric).Distinct())}");
        return points[^1];
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
