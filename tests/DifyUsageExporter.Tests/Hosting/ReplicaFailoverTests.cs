using System.Globalization;
using System.Net;
using System.Text.Json;
using DifyUsageExporter.Storage;
using Shouldly;
using Simulators.Dify;
using Simulators.Meter;
using Xunit;

namespace DifyUsageExporter.Tests.Hosting;

/// <summary>
/// Two real daemon processes on one PostgreSQL state store (STATE_DATABASE_URL, docs/state-postgres.md)
/// against the Dify and API_Meter simulators: while replica A delivers, replica B's cycle is refused by
/// the shared advisory lock; A is killed with SIGKILL in the middle of its delivery; B's next firing
/// finishes the work. API_Meter must end exactly at the Dify generator's ground truth, and no two cycles
/// (by the cycles table and by the API_Meter request log) may have run at the same time.
/// </summary>
public sealed class ReplicaFailoverTests
{
    private const string From = "2026-02-28";
    private const string To = "2026-03-16";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_daemons_share_one_state_database_and_a_replica_killed_mid_delivery_leaves_nothing_unfinished()
    {
        using var dir = new TempDir();
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 23 }) }, Ct);
        await using var meter = await FakeApiMeter.StartAsync(ValidConfig.MeterToken);
        var state = TestStores.NewPostgresDatabase();
        var statePassword = new Npgsql.NpgsqlConnectionStringBuilder(state).Password!;
        // Every request takes a while, so the kill lands in the middle of the delivery (small batches: many requests);
        // the first ones take longest, so B (a process starting on a loaded machine) tries its cycle while A still runs.
        meter.Enqueue(Enumerable.Range(0, 200).Select(i => MeterFault.SlowBy(TimeSpan.FromSeconds(i < 4 ? 4 : 1))).ToArray());

        Dictionary<string, string> Replica(string name)
        {
            var env = ValidConfig.Variables(Path.Combine(dir.Path, name));
            env["DIFY_API_BASE_URL"] = sim.BaseUrl.ToString();
            env["DIFY_EMAIL"] = sim.Options.Email;
            env["DIFY_PASSWORD"] = sim.Options.Password;
            env["EXTERNAL_API_URL"] = meter.Url.ToString();
            env["STATE_DATABASE_URL"] = state;
            env["DIFY_FETCH_PERIOD"] = "custom";
            env["DIFY_FETCH_START_DATE"] = From;
            env["DIFY_FETCH_END_DATE"] = To;
            env["API_METER_BATCH_SIZE"] = "2";
            env["CRON_SCHEDULE"] = "* * * * *";
            env["RUN_ON_START"] = "always";
            return env;
        }

        using var a = ExporterProcess.Start(Replica("a"), dir.Path, "run");
        (await a.WaitForOutputAsync("Export cycle started", TimeSpan.FromSeconds(90))).ShouldBeTrue(a.Stdout + a.Stderr);
        using var b = ExporterProcess.Start(Replica("b"), dir.Path, "run");
        (await b.WaitForOutputAsync("refused: another process is running a cycle", TimeSpan.FromSeconds(90))).ShouldBeTrue(b.Stdout + b.Stderr);
        b.Stdout.ShouldContain("advisory lock");

        await WaitUntilAsync(() => meter.Requests.Count >= 2, TimeSpan.FromSeconds(120), () => a.Stdout);
        a.Process.Kill();   // SIGKILL: no shutdown, no unlock, no cycle end record
        var killedAt = TimeProvider.System.GetUtcNow();
        await a.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var sentByA = meter.Requests.Count;
        a.Stdout.ShouldNotContain("Export cycle finished");

        // B's next firing (at most a minute away) finds the lock free and finishes the work.
        (await b.WaitForOutputAsync("Export cycle finished", TimeSpan.FromSeconds(150))).ShouldBeTrue(b.Stdout + b.Stderr);
        var truth = sim.Truth.ByDayProviderModel(sim.AccountZone, DateOnly.Parse(From, CultureInfo.InvariantCulture), DateOnly.Parse(To, CultureInfo.InvariantCulture));
        truth.Count.ShouldBeGreaterThan(10);
        sentByA.ShouldBeLessThan(truth.Count / 2, "A was killed before it delivered everything");
        var rows = meter.Rows().ToDictionary(r => (r.UsageDate, r.Provider, r.Model));
        rows.Keys.OrderBy(k => k).ShouldBe(truth.Select(t => (Day(t.Date), t.Provider, t.Model)).OrderBy(k => k));
        foreach (var t in truth)
        {
            var row = rows[(Day(t.Date), t.Provider, t.Model)];
            (row.InputTokens, row.OutputTokens, row.RequestCount).ShouldBe((t.InputTokens, t.OutputTokens, (long)t.RequestCount), $"{t.Date} {t.Provider} {t.Model}");
            row.CostActual.ShouldBe(Math.Round(t.Cost, 7, MidpointRounding.AwayFromZero), $"{t.Date} {t.Provider} {t.Model}");
        }

        // No two cycles at the same time: by the store's cycle history...
        using var store = StateStore.OpenPostgres(state, TimeProvider.System);
        var cycles = (await store.ReadRecentCyclesAsync(10, Ct)).OrderBy(c => c.StartedAt).ToList();
        cycles.Select(c => c.Outcome).ShouldBe([StateStore.AbandonedOutcome, "success"]);
        cycles[1].StartedAt.ShouldBeGreaterThan(killedAt.AddSeconds(-1), "B's cycle began only after A died");
        // ...and by API_Meter's request log: nothing arrived between A's death and B's cycle, and B's cycle sent the rest.
        meter.Requests.ShouldNotContain(r => r.ReceivedAt > killedAt.AddSeconds(1) && r.ReceivedAt < cycles[1].StartedAt);
        meter.Requests.Where(r => r.ReceivedAt >= cycles[1].StartedAt).ShouldNotBeEmpty();
        meter.Requests.Where(r => r.ReceivedAt >= cycles[1].StartedAt).ShouldAllBe(r => r.Status == 200);
        (await store.ReadOutboxAsync(null, null, null, Ct)).ShouldBeEmpty();
        File.Exists(Path.Combine(dir.Path, "a", StateStore.FileName)).ShouldBeFalse("the state is in PostgreSQL, not in DATA_DIR");

        // B's /health and /metrics read the shared store.
        var address = JsonLogAssert.EveryLineHasExactlyFourFields(b.Stdout)
            .Single(l => l.GetProperty("message").GetString()!.StartsWith("Health server listening", StringComparison.Ordinal))
            .GetProperty("context").GetProperty("address").GetString()!;
        using var client = new HttpClient();
        using (var health = await client.GetAsync(new Uri(new Uri(address), "/health"), Ct))
        {
            var body = await health.Content.ReadAsStringAsync(Ct);
            health.StatusCode.ShouldBe(HttpStatusCode.OK, body);
            JsonDocument.Parse(body).RootElement.GetProperty("status").GetString().ShouldBe("ok");
        }

        (await client.GetStringAsync(new Uri(new Uri(address), "/metrics"), Ct)).ShouldContain("dify_exporter_lock_refusals_total");

        b.Signal("TERM");
        (await b.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(0, b.Stdout + b.Stderr);
        foreach (var output in new[] { a.Stdout + a.Stderr, b.Stdout + b.Stderr })
        {
            output.ShouldNotContain(statePassword);
            output.ShouldNotContain(sim.Options.Password);
        }
    }

    private static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan limit, Func<string> context)
    {
        var end = TimeProvider.System.GetUtcNow() + limit;
        while (!condition())
        {
            TimeProvider.System.GetUtcNow().ShouldBeLessThan(end, context());
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, Ct);
        }
    }
}
