using System.Text.Json;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Usage;
using Shouldly;
using Simulators.Dify;
using Simulators.Meter;
using Xunit;

namespace DifyUsageExporter.Tests.Hosting;

/// <summary>
/// SIGINT/SIGTERM to the real executable's one-shot commands (issue 9, item 11): the work stops,
/// exit 130, the cycle is recorded as cancelled, the store stays consistent (what was stored stays,
/// a batch in flight is not delivered), and the next <c>run --once</c> ends with API_Meter at the
/// Dify simulator's ground truth. The simulator holds every request of one app (or API_Meter one
/// batch) until the exporter gives up, so the signal lands in the middle of the work whatever the
/// machine's load; the test waits for log lines and server state, never for a duration.
/// </summary>
public sealed class SignalCancellationTests
{
    private static readonly DateOnly From = new(2026, 2, 28);
    private static readonly DateOnly To = new(2026, 3, 16);
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private const string Tenant = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task A_signal_in_the_middle_of_the_extraction_cancels_run_once_keeps_what_was_stored_and_the_next_run_is_exact(string signal)
    {
        using var dir = new TempDir();
        await using var sim = await StartHeldDifyAsync();
        await using var meter = await FakeApiMeter.StartAsync("meter-token-signal-test-1");
        var variables = Variables(dir.Path, sim, meter);

        using (var run = Start(variables, dir.Path, "run", "--once"))
        {
            // The first app stored and logged as complete: the extraction is under way, others are still read.
            (await run.WaitForOutputAsync("usage events read, complete", Limit)).ShouldBeTrue(run.Stdout + run.Stderr);
            run.Signal(signal);
            (await run.WaitForExitAsync(Limit)).ShouldBe(130, run.Stdout + run.Stderr);
            var lines = JsonLogAssert.EveryLineHasExactlyFourFields(run.Stdout);
            lines.ShouldContain(l => l.GetProperty("message").GetString()!.StartsWith("Export cycle cancelled", StringComparison.Ordinal));
            lines.ShouldContain(l => l.GetProperty("message").GetString() == "Stopped (exit code 130)");

            // What was stored stays: every app that reported itself complete before the stop has
            // exactly its events in the ledger.
            var completeApps = lines
                .Where(l => l.GetProperty("message").GetString()!.EndsWith("usage events read, complete", StringComparison.Ordinal))
                .Select(l => l.GetProperty("context").GetProperty("appId").GetString()!)
                .ToList();
            completeApps.ShouldNotBeEmpty();
            using var store = StateStore.OpenForReading(Path.Combine(dir.Path, "data"), TimeProvider.System);
            store.ReadLastCycle().ShouldNotBeNull().Outcome.ShouldBe(CycleExecutor.Cancelled);
            var events = await store.ReadEventsAsync(From, To, Ct).ToListAsync(Ct);
            var truth = sim.Truth.EventsIn(sim.AccountZone, From, To).ToList();
            foreach (var app in completeApps)
            {
                Dify.SimHarness.Compare(events.Where(e => e.AppId == app).ToList(), truth.Where(e => e.AppId.ToString() == app), sim.AccountZone).ShouldBeEmpty(app);
            }

            // The extraction did not finish: nothing was delivered.
            meter.Requests.ShouldBeEmpty();
        }

        await VerifyStoreAsync(variables, dir.Path);
        sim.Faults.Clear();
        await NextRunIsExactAsync(variables, dir.Path, sim, meter);
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_signal_while_a_batch_is_in_flight_cancels_run_once_without_marking_it_delivered_and_the_next_run_is_exact(string signal)
    {
        using var dir = new TempDir();
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 11 }) }, Ct);
        await using var meter = await FakeApiMeter.StartAsync("meter-token-signal-test-2");
        // Two batches are confirmed, the third hangs until the exporter gives up on it.
        meter.Enqueue(MeterFault.Pass, MeterFault.Pass, MeterFault.SlowBy(TimeSpan.FromMinutes(10)));
        var variables = Variables(dir.Path, sim, meter);
        variables["API_METER_BATCH_SIZE"] = "10";
        variables["EXTERNAL_API_TIMEOUT_MS"] = "300000";

        using (var run = Start(variables, dir.Path, "run", "--once"))
        {
            // Wait until the third request has arrived (it took the last scripted fault) and hangs.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (meter.PendingFaults > 0 && !run.Process.HasExited && waited.Elapsed < Limit)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, Ct);
            }

            meter.PendingFaults.ShouldBe(0, run.Stdout + run.Stderr);
            run.Signal(signal);
            (await run.WaitForExitAsync(Limit)).ShouldBe(130, run.Stdout + run.Stderr);
            JsonLogAssert.EveryLineHasExactlyFourFields(run.Stdout).ShouldContain(l => l.GetProperty("message").GetString() == "Stopped (exit code 130)");
        }

        using (var store = StateStore.OpenForReading(Path.Combine(dir.Path, "data"), TimeProvider.System))
        {
            store.ReadLastCycle().ShouldNotBeNull().Outcome.ShouldBe(CycleExecutor.Cancelled);
            // Exactly what API_Meter confirmed is marked delivered; the batch in flight waits in the spool.
            var delivered = await store.ReadDeliveredHashesAsync(DeliveryService.ApiMeterTarget, From, To, Ct);
            var stored = meter.Rows().Select(r => (r.UsageDate, r.Provider, r.Model)).Order().ToList();
            stored.Count.ShouldBe(20);
            delivered.Keys.Select(k => DailyKey.TryParse(k).ShouldNotBeNull()).Select(k => (Iso.Day(k.UsageDate), k.Provider, k.Model)).Order().ToList().ShouldBe(stored);
            var pending = await store.ReadOutboxAsync(DeliveryService.ApiMeterTarget, null, OutboxRow.Pending, Ct);
            pending.Count.ShouldBe(sim.Truth.ByDayProviderModel(sim.AccountZone, From, To).Count - 20);
        }

        await VerifyStoreAsync(variables, dir.Path);
        await NextRunIsExactAsync(variables, dir.Path, sim, meter);
    }

    [Theory]
    [InlineData("export", "INT")]
    [InlineData("usage", "TERM")]
    public async Task A_signal_in_the_middle_of_an_export_or_usage_command_exits_130_and_leaves_a_consistent_store(string command, string signal)
    {
        using var dir = new TempDir();
        await using var sim = await StartHeldDifyAsync();
        await using var meter = await FakeApiMeter.StartAsync("meter-token-signal-test-3");
        var variables = Variables(dir.Path, sim, meter);

        using (var run = Start(variables, dir.Path, command, "--from", Iso.Day(From), "--to", Iso.Day(To)))
        {
            // One-shot commands log to stderr.
            (await run.WaitForOutputAsync("usage events read, complete", Limit, stderr: true)).ShouldBeTrue(run.Stdout + run.Stderr);
            run.Signal(signal);
            (await run.WaitForExitAsync(Limit)).ShouldBe(130, run.Stdout + run.Stderr);
            run.Stderr.ShouldContain($"Cancelled by SIG{signal}: what was stored stays; run the command again to continue.");
            run.Stderr.ShouldNotContain("failed unexpectedly");
            meter.Requests.ShouldBeEmpty();
        }

        await VerifyStoreAsync(variables, dir.Path);
        sim.Faults.Clear();
        await NextRunIsExactAsync(variables, dir.Path, sim, meter);
    }

    /// <summary>
    /// A Dify that holds every request of one chat app for 10 minutes (until the client aborts it): the
    /// other apps are read and logged as complete, the extraction cannot finish before the signal.
    /// </summary>
    private static async Task<DifySimulator> StartHeldDifyAsync()
    {
        var workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 11 });
        var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = workspace }, Ct);
        var held = workspace.Apps.First(a => a.Mode == "chat" && !a.Archived);
        sim.Faults.DelayNext($"/apps/{held.Id}/", TimeSpan.FromMinutes(10), times: 10_000);
        return sim;
    }

    /// <summary>
    /// Starts the exporter with SIGINT and SIGQUIT at their default action: a test host started in the
    /// background (CI) inherits them ignored, and .NET keeps an ignored SIGINT ignored, as a shell's
    /// background job must. Perl (Debian's essential perl-base) resets them and execs in the same process.
    /// </summary>
    private static ExporterProcess Start(Dictionary<string, string> variables, string dir, params string[] args) =>
        ExporterProcess.StartFile("perl", ["-e", "$SIG{INT} = 'DEFAULT'; $SIG{QUIT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\";", "dotnet", ExporterProcess.DllPath, .. args], variables, dir);

    private static Dictionary<string, string> Variables(string dir, DifySimulator sim, FakeApiMeter meter) => new(StringComparer.Ordinal)
    {
        ["DIFY_API_BASE_URL"] = sim.BaseUrl.ToString(),
        ["DIFY_EMAIL"] = sim.Options.Email,
        ["DIFY_PASSWORD"] = sim.Options.Password,
        ["EXTERNAL_API_URL"] = meter.Url.ToString(),
        ["EXTERNAL_API_TOKEN"] = meter.Token,
        ["API_METER_TENANT_ID"] = Tenant,
        ["DATA_DIR"] = Path.Combine(dir, "data"),
        ["HEALTHCHECK_PORT"] = "0",
        ["RUN_ON_START"] = "never",
        ["DIFY_FETCH_PERIOD"] = "custom",
        ["DIFY_FETCH_START_DATE"] = Iso.Day(From),
        ["DIFY_FETCH_END_DATE"] = Iso.Day(To),
        ["DIFY_LOOKBACK_DAYS"] = "0",
        ["DIFY_FETCH_CONCURRENCY"] = "2",
        // A non-invariant culture in the environment must not change a single log value.
        ["LANG"] = "de_DE.UTF-8",
        ["LC_ALL"] = "de_DE.UTF-8",
    };

    /// <summary>The store's own invariants (integrity, totals against events, spool) hold.</summary>
    private static async Task VerifyStoreAsync(Dictionary<string, string> variables, string dir)
    {
        using var verify = ExporterProcess.Start(variables, dir, "verify");
        (await verify.WaitForExitAsync(Limit)).ShouldBe(0, verify.Stdout + verify.Stderr);
    }

    /// <summary>A following <c>run --once</c> ends with API_Meter holding exactly the simulator's truth.</summary>
    private static async Task NextRunIsExactAsync(Dictionary<string, string> variables, string dir, DifySimulator sim, FakeApiMeter meter)
    {
        using var again = ExporterProcess.Start(variables, dir, "run", "--once");
        (await again.WaitForExitAsync(Limit)).ShouldBe(0, again.Stdout + again.Stderr);
        var truth = sim.Truth.ByDayProviderModel(sim.AccountZone, From, To);
        truth.Count.ShouldBeGreaterThan(20);
        var rows = meter.Rows().ToDictionary(r => (r.UsageDate, r.Provider, r.Model));
        rows.Count.ShouldBe(truth.Count);
        foreach (var t in truth)
        {
            var row = rows[(Iso.Day(t.Date), t.Provider, t.Model)];
            (row.InputTokens, row.OutputTokens, row.RequestCount).ShouldBe((t.InputTokens, t.OutputTokens, (long)t.RequestCount), $"{t.Date} {t.Provider} {t.Model}");
            row.CostActual.ShouldBe(Math.Round(t.Cost, 7, MidpointRounding.AwayFromZero), $"{t.Date} {t.Provider} {t.Model}");
        }

        // Structured values are ISO whatever the process culture (LANG=de_DE here).
        var extracted = JsonLogAssert.EveryLineHasExactlyFourFields(again.Stdout)
            .Single(l => l.GetProperty("message").GetString()!.StartsWith("Extracted ", StringComparison.Ordinal)).GetProperty("context");
        extracted.GetProperty("from").GetString().ShouldBe(Iso.Day(From));
        extracted.GetProperty("to").GetString().ShouldBe(Iso.Day(To));
        extracted.GetProperty("events").ValueKind.ShouldBe(JsonValueKind.Number);
    }
}
