using System.Diagnostics;
using System.Net;
using System.Text.Json;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Telemetry;
using Microsoft.Data.Sqlite;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Web;

/// <summary>
/// GET /health and /metrics on the daemon's host, daily schedule at 01:00 UTC. Everything is read
/// from the store, so each step also starts a fresh host (a restarted daemon) on the same store.
/// </summary>
public sealed class HealthServerTests : IDisposable
{
    private const string Cron = "0 1 * * *";
    private static readonly DateTimeOffset Day1 = new(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDir dir = new();
    private readonly FakeClock time = new(Day1);
    private readonly StateStore store;
    private readonly ILoggerFactory loggers;
    private readonly ConcurrentWriter log = new();

    public HealthServerTests()
    {
        store = StateStore.Open(dir.Path, time);
        loggers = Logging.CreateFactory(LogLevelSetting.Info, log, new SecretRegistry(), time);
    }

    [Fact]
    public async Task Health_goes_ok_degraded_failing_with_reasons_and_a_restarted_daemon_reports_the_same()
    {
        await RecordAsync(Day1.AddHours(1), new CycleResult(CycleOutcome.Success, "all delivered"));
        time.Advance(TimeSpan.FromHours(2));
        var ok = await GetHealthAsync();
        ok.Code.ShouldBe(HttpStatusCode.OK);
        ok.Body.GetProperty("status").GetString().ShouldBe("ok");
        ok.Body.GetProperty("reasons").GetArrayLength().ShouldBe(0);
        ok.Body.GetProperty("lastSuccessAt").GetDateTimeOffset().ShouldBe(Day1.AddHours(1).AddMinutes(1));
        ok.Body.GetProperty("spool").GetProperty("pending").GetInt64().ShouldBe(0);
        ok.Body.GetProperty("spool").GetProperty("oldestPendingAgeSeconds").ValueKind.ShouldBe(JsonValueKind.Null);

        // Day 2, 01:00: API_Meter refuses; one batch of two records is dead, one record is pending.
        time.Advance(TimeSpan.FromHours(23));
        await SpoolAsync(deadRecords: 2, pendingRecords: 1);
        await RecordAsync(time.GetUtcNow(), new CycleResult(CycleOutcome.Spooled, "3 records pending in the spool"));
        time.Advance(TimeSpan.FromMinutes(30));
        var degraded = await GetHealthAsync();
        degraded.Code.ShouldBe(HttpStatusCode.OK);
        degraded.Body.GetProperty("status").GetString().ShouldBe("degraded");
        var reasons = degraded.Body.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()!).ToList();
        reasons.ShouldContain(r => r.StartsWith("2 dead letter(s) in the spool", StringComparison.Ordinal));
        reasons.ShouldContain(r => r.StartsWith("1 record(s) wait in the spool", StringComparison.Ordinal));
        reasons.ShouldContain(r => r.Contains("left records undelivered", StringComparison.Ordinal));
        var spool = degraded.Body.GetProperty("spool");
        (spool.GetProperty("pending").GetInt64(), spool.GetProperty("dead").GetInt64(), spool.GetProperty("oldestPendingAgeSeconds").GetDouble()).ShouldBe((1L, 2L, 1800d));
        degraded.Body.GetProperty("lastSuccessAt").GetDateTimeOffset().ShouldBe(Day1.AddHours(1).AddMinutes(1));

        // Day 3, 01:05: the cycles of day 2 and day 3 did not succeed: two intervals without success.
        time.Advance(TimeSpan.FromHours(24) - TimeSpan.FromMinutes(25));
        var failing = await GetHealthAsync();
        failing.Code.ShouldBe(HttpStatusCode.ServiceUnavailable);
        failing.Body.GetProperty("status").GetString().ShouldBe("failing");
        failing.Body.GetProperty("reasons")[0].GetString()!.ShouldStartWith("No successful cycle since the one that finished at 2025-06-01T01:01:00Z");

        var cli = new CapturedEnvironment(new Dictionary<string, string>(), dir.Path, time);
        await using (var host = await StatusHost.StartAsync(store, new CycleStatus { StartedAt = time.GetUtcNow() }, time, loggers, Cron))
        {
            (await Task.Run(() => cli.Run("health", "--url", new Uri(host.Address, "/health").ToString()), TestContext.Current.CancellationToken)).ShouldBe(1);
        }

        cli.Error.ToString().ShouldContain("\"status\":\"failing\"");
    }

    [Fact]
    public async Task Rejected_credentials_are_failing_at_once_and_skipped_apps_are_degraded()
    {
        await RecordAsync(Day1.AddHours(1), new CycleResult(CycleOutcome.Success, "all delivered") { AppsSkipped = 2 });
        time.Advance(TimeSpan.FromHours(2));
        var skipped = await GetHealthAsync();
        skipped.Body.GetProperty("status").GetString().ShouldBe("degraded");
        skipped.Body.GetProperty("reasons")[0].GetString()!.ShouldContain("skipped 2 app(s)");

        await RecordAsync(time.GetUtcNow(), new CycleResult(CycleOutcome.Failed, "Dify rejected the e-mail or password.") { CredentialsRejected = true });
        time.Advance(TimeSpan.FromMinutes(5));
        var rejected = await GetHealthAsync();
        rejected.Code.ShouldBe(HttpStatusCode.ServiceUnavailable);
        rejected.Body.GetProperty("status").GetString().ShouldBe("failing");
        rejected.Body.GetProperty("reasons")[0].GetString()!.ShouldContain("Dify rejected the credentials");
    }

    [Fact]
    public async Task A_store_that_is_gone_is_failing()
    {
        await using var host = await StatusHost.StartAsync(store, new CycleStatus { StartedAt = time.GetUtcNow() }, time, loggers, Cron);
        using var client = new HttpClient { BaseAddress = host.Address };
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(dir.Path, StateStore.FileName + "*"))
        {
            File.Delete(file);
        }

        using var response = await client.GetAsync("/health", TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        body.GetProperty("status").GetString().ShouldBe("failing");
        body.GetProperty("reasons")[0].GetString()!.ShouldStartWith("The state store is unusable");
    }

    [Fact]
    public async Task Metrics_read_the_spool_and_last_success_from_the_store_and_pass_promtool()
    {
        await RecordAsync(Day1.AddHours(1), new CycleResult(CycleOutcome.Success, "all delivered"));
        time.Advance(TimeSpan.FromHours(2));
        await SpoolAsync(deadRecords: 1, pendingRecords: 3);
        time.Advance(TimeSpan.FromSeconds(90));
        // A fresh host, as after a restart: the gauges come from the store, not from this process.
        await using var host = await StatusHost.StartAsync(store, new CycleStatus { StartedAt = time.GetUtcNow() }, time, loggers, Cron);
        CycleMetrics.Cycles.Add(1, new KeyValuePair<string, object?>("outcome", "success"));
        CycleMetrics.CycleDuration.Record(4.5);
        using var client = new HttpClient { BaseAddress = host.Address };
        using var metricsResponse = await client.GetAsync("/metrics", TestContext.Current.CancellationToken);
        var metrics = await metricsResponse.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        metricsResponse.StatusCode.ShouldBe(HttpStatusCode.OK, log.ToString());

        metrics.ShouldContain("# HELP dify_usage_exporter_spool_pending_records ");
        metrics.ShouldContain("# TYPE dify_usage_exporter_spool_pending_records gauge\ndify_usage_exporter_spool_pending_records 3\n");
        metrics.ShouldContain("\ndify_usage_exporter_spool_dead_letters 1\n");
        metrics.ShouldContain("\ndify_usage_exporter_spool_oldest_pending_age_seconds 90\n");
        metrics.ShouldContain($"\ndify_usage_exporter_last_success_timestamp_seconds {Day1.AddHours(1).AddMinutes(1).ToUnixTimeSeconds()}\n");
        metrics.ShouldContain("# TYPE dify_exporter_cycle_duration_seconds summary\n");
        var samples = metrics.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).Select(l => l[..l.LastIndexOf(' ')]).ToList();
        samples.ShouldBeUnique();
        var (code, output) = await PromtoolAsync(metrics);
        code.ShouldBe(0, output + "\n" + metrics);
        log.ToString().ShouldNotContain("\"level\":\"error\"");
    }

    public void Dispose()
    {
        loggers.Dispose();
        store.Dispose();
        dir.Dispose();
    }

    private static async Task<(int Code, string Output)> PromtoolAsync(string exposition)
    {
        var info = new ProcessStartInfo("promtool") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("check");
        info.ArgumentList.Add("metrics");
        using var process = Process.Start(info)!;
        await process.StandardInput.WriteAsync(exposition);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken) + await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, output);
    }

    private async Task<(HttpStatusCode Code, JsonElement Body)> GetHealthAsync()
    {
        await using var host = await StatusHost.StartAsync(store, new CycleStatus { StartedAt = time.GetUtcNow() }, time, loggers, Cron);
        using var client = new HttpClient { BaseAddress = host.Address };
        using var response = await client.GetAsync("/health", TestContext.Current.CancellationToken);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();
        return (response.StatusCode, body);
    }

    private async Task RecordAsync(DateTimeOffset at, CycleResult result)
    {
        var id = Guid.NewGuid().ToString("N");
        await store.RecordCycleStartAsync(id, "schedule", at, CancellationToken.None);
        var facts = new CycleFacts(result.CaughtUp, result.AppsSkipped, result.CredentialsRejected ? StateStore.CredentialsFailure : null);
        await store.RecordCycleEndAsync(id, at.AddMinutes(1), result.Outcome.ToString().ToLowerInvariant(), result.Summary, facts, CancellationToken.None);
    }

    private async Task SpoolAsync(int deadRecords, int pendingRecords)
    {
        // Well-formed records (the daemon's start-up verify checks each spooled record against its key).
        OutboxItem Item(int i)
        {
            var json = $"{{\"usage_date\":\"2025-06-01\",\"provider\":\"openai\",\"model\":\"gpt-{i}\"}}";
            return new($"2025-06-01|openai|gpt-{i}", new DateOnly(2025, 6, 1), json, DifyUsageExporter.Metering.ApiMeterPayload.ContentHash(json));
        }

        var ct = CancellationToken.None;
        var dead = await store.EnqueueAsync("api_meter", Enumerable.Range(0, deadRecords).Select(Item).ToList(), 500, false, ct);
        var rows = await store.ReadOutboxAsync("api_meter", dead.Single(), null, ct);
        await store.MarkFailedAsync(rows, 1, "400 rejected", countCycle: true, maxSpoolRetries: 1, ct);
        await store.EnqueueAsync("api_meter", Enumerable.Range(100, pendingRecords).Select(Item).ToList(), 500, false, ct);
    }
}
