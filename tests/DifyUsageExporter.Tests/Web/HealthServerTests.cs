using System.Net;
using System.Text.Json;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Telemetry;
using DifyUsageExporter.Tests.Support;
using Microsoft.Data.Sqlite;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Web;

public class HealthServerTests
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);

    // The host's scheduler runs "0 0 1 1 *".
    private static readonly DateTimeOffset NextNewYear = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Health_is_200_with_cycle_details_then_503_when_the_store_is_gone_and_metrics_are_prometheus_text()
    {
        using var dir = new TempDir();
        var time = new ManualTimeProvider(T0);
        var store = SqliteStore.Open(dir.Path, time);
        var status = new CycleStatus { StartedAt = T0 };
        status.CycleStarted(T0.AddMinutes(1));
        status.CycleEnded(T0.AddMinutes(2), "success", success: true);
        time.Advance(TimeSpan.FromMinutes(10));
        CycleMetrics.Cycles.Add(1, new KeyValuePair<string, object?>("outcome", "success"));
        using var loggers = Logging.CreateFactory(LogLevelSetting.Info, new ConcurrentWriter(), new SecretRegistry(), time);
        await using var server = await StatusHost.StartAsync(store, status, time, loggers);
        using var client = new HttpClient { BaseAddress = server.Address };
        CycleMetrics.Cycles.Add(2, new KeyValuePair<string, object?>("outcome", "health-test"));

        using var healthy = await client.GetAsync("/health", TestContext.Current.CancellationToken);
        healthy.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = JsonDocument.Parse(await healthy.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        body.GetProperty("status").GetString().ShouldBe("healthy");
        body.GetProperty("uptimeSeconds").GetDouble().ShouldBe(600);
        body.GetProperty("lastCycle").GetProperty("outcome").GetString().ShouldBe("success");
        body.GetProperty("lastCycle").GetProperty("startedAt").GetDateTimeOffset().ShouldBe(T0.AddMinutes(1));
        body.GetProperty("lastCycle").GetProperty("finishedAt").GetDateTimeOffset().ShouldBe(T0.AddMinutes(2));
        body.GetProperty("lastSuccessAt").GetDateTimeOffset().ShouldBe(T0.AddMinutes(2));
        body.GetProperty("nextRunAt").GetDateTimeOffset().ShouldBe(NextNewYear);
        // Instants are written like the logs: UTC, milliseconds, Z.
        body.GetProperty("nextRunAt").GetString()!.ShouldMatch(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$");

        var metrics = await client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        metrics.ShouldContain("# TYPE dify_exporter_cycles_total counter");
        metrics.ShouldContain("dify_exporter_cycles_total{outcome=\"health-test\"} 2");
        metrics.ShouldContain($"dify_exporter_next_run_timestamp_seconds {NextNewYear.ToUnixTimeSeconds()}");
        metrics.ShouldContain("dify_exporter_uptime_seconds 600");

        SqliteConnection.ClearAllPools();
        store.Dispose();
        foreach (var file in Directory.GetFiles(dir.Path, SqliteStore.FileName + "*"))
        {
            File.Delete(file);
        }

        using var unhealthy = await client.GetAsync("/health", TestContext.Current.CancellationToken);
        unhealthy.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        var problem = JsonDocument.Parse(await unhealthy.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        problem.GetProperty("status").GetString().ShouldBe("unhealthy");
    }
}
