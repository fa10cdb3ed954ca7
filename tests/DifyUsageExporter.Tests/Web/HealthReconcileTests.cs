using System.Net;
using System.Text.Json;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Usage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Web;

/// <summary>/health and /metrics show the latest reconcile and the unknown-mode apps, also after a restart.</summary>
public class HealthReconcileTests
{
    private static readonly DateTimeOffset T0 = new(2026, 7, 9, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_latest_reconcile_and_unknown_mode_apps_survive_a_restart()
    {
        using var dir = new TempDir();
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeClock(T0);
        var report = new ReconcileReport(T0, new DateOnly(2026, 7, 1), new DateOnly(2026, 7, 2), "Asia/Tokyo",
        [
            new ReconcileRow("app-1", "Agent Workflow", "workflow", new DateOnly(2026, 7, 1), 900, 0.01m, 1000, null, ReconcileStatus.Unexplained, "the ledger has 100 tokens less than Dify"),
            new ReconcileRow("app-2", "Chat", "chat", new DateOnly(2026, 7, 1), 50, 0.001m, 50, 0.001m, ReconcileStatus.Match, null),
        ]);
        using (var first = StateStore.Open(dir.Path, time))
        {
            await first.SaveReconcileAsync(report.ToJson(indented: false, maxRows: 20), ct);
            await first.SaveUnknownModeAppsAsync(["Other voice-agent (id-9): voice-agent"], ct);
        }

        // A new process: the store is all it has.
        using var store = StateStore.Open(dir.Path, time);
        var status = new CycleStatus { StartedAt = T0 };
        using var loggers = Logging.CreateFactory(LogLevelSetting.Info, new ConcurrentWriter(), new SecretRegistry(), time);
        await using var server = await StatusHost.StartAsync(store, status, time, loggers);
        using var client = new HttpClient { BaseAddress = server.Address };

        using var response = await client.GetAsync("/health", ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement;
        var reconcile = body.GetProperty("reconcile");
        reconcile.GetProperty("ok").GetBoolean().ShouldBeFalse();
        reconcile.GetProperty("unexplained_tokens").GetInt64().ShouldBe(100);
        reconcile.GetProperty("from").GetString().ShouldBe("2026-07-01");
        var row = reconcile.GetProperty("rows")[0];
        (row.GetProperty("app").GetString(), row.GetProperty("date").GetString(), row.GetProperty("status").GetString()).ShouldBe(("Agent Workflow", "2026-07-01", "unexplained"));
        body.GetProperty("unknownModeApps").EnumerateArray().Select(a => a.GetString()).ShouldBe(["Other voice-agent (id-9): voice-agent"]);

        var metrics = await client.GetStringAsync("/metrics", ct);
        metrics.ShouldContain("# TYPE dify_usage_exporter_reconcile_unexplained_tokens gauge");
        metrics.ShouldContain("# TYPE dify_exporter_apps_unknown_mode gauge");
    }
}
