using System.CommandLine;
using DifyUsageExporter.Cli;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Sync;
using Shouldly;
using Simulators.Dify;
using Simulators.Meter;
using Xunit;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>
/// The real `export` command and the scheduled cycle, in-process, against both simulators: the fake
/// API_Meter's final state must equal the Dify generator's ground truth for every key, under faults,
/// an outage, a crash between send and mark, and re-runs.
/// </summary>
public sealed class EndToEndTests
{
    private static readonly DateOnly From = new(2026, 2, 28);
    private static readonly DateOnly To = new(2026, 3, 16);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<DifySimulator> StartDifyAsync(int seed = 11) =>
        await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = seed }) }, Ct);

    private static Func<ExporterSettings, ExporterSettings> WithDify(DifySimulator sim, Func<ExporterSettings, ExporterSettings>? more = null) => s =>
    {
        var settings = s with
        {
            DifyBaseUrl = sim.BaseUrl,
            DifyEmail = sim.Options.Email,
            DifyPassword = sim.Options.Password,
            DifyFetchRetryCount = 1,
            DifyFetchRetryDelay = TimeSpan.FromMilliseconds(1),
        };
        return more is null ? settings : more(settings);
    };

    private static void ServerShouldEqualGeneratorTruth(FakeApiMeter meter, DifySimulator sim)
    {
        var truth = sim.Truth.ByDayProviderModel(sim.AccountZone, From, To);
        truth.Count.ShouldBeGreaterThan(10);
        var rows = meter.Rows().ToDictionary(r => (r.UsageDate, r.Provider, r.Model));
        rows.Keys.OrderBy(k => k).ShouldBe(truth.Select(t => (t.Date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), t.Provider, t.Model)).OrderBy(k => k));
        foreach (var t in truth)
        {
            var row = rows[(t.Date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), t.Provider, t.Model)];
            var what = $"{t.Date} {t.Provider} {t.Model}";
            (row.InputTokens, row.OutputTokens, row.TotalTokens, row.RequestCount).ShouldBe((t.InputTokens, t.OutputTokens, t.InputTokens + t.OutputTokens, (long)t.RequestCount), what);
            row.CostActual.ShouldBe(Math.Round(t.Cost, 7, MidpointRounding.AwayFromZero), what);
            row.TenantId.ShouldBe(DeliveryHarness.Tenant.ToString());
        }
    }

    private static async Task<int> ExportAsync(DeliveryHarness h, params string[] extra)
    {
        var env = Environment(h);
        var root = new RootCommand("e2e");
        root.Subcommands.Add(ExportCommand.Create(env, (settings, store, loggers, e) => DifyUsageSource.Create(settings, store, loggers, e.Time, e.Secrets)));
        root.Subcommands.Add(SpoolCommand.Create(env));
        try
        {
            return await root.Parse(["export", "--from", "2026-02-28", "--to", "2026-03-16", .. extra]).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = env.Out, Error = env.Error }, Ct);
        }
        catch (CliException ex)
        {
            return ex.ExitCode;
        }
    }

    private static CommandEnvironment Environment(DeliveryHarness h) => new()
    {
        Out = new StringWriter(),
        Error = new StringWriter(),
        Time = h.Clock,
        LoadSettings = () => h.Settings,
        CreateLoggerFactory = (_, _) => LoggerFactory.Create(b => b.AddProvider(h.Logs.Provider)),
        Secrets = h.Secrets,
    };

    [Fact]
    public async Task Export_command_delivers_the_generators_truth_and_a_rerun_sends_nothing()
    {
        await using var sim = await StartDifyAsync();
        await using var h = await DeliveryHarness.CreateAsync(configure: WithDify(sim));

        (await ExportAsync(h)).ShouldBe(ExitCodes.Success);

        ServerShouldEqualGeneratorTruth(h.Meter, sim);
        h.Meter.Requests.ShouldAllBe(r => r.Status == 200 && r.RecordCount <= 500);
        var requests = h.Meter.Requests.Count;
        (await ExportAsync(h)).ShouldBe(ExitCodes.Success);
        h.Meter.Requests.Count.ShouldBe(requests);
        ServerShouldEqualGeneratorTruth(h.Meter, sim);
        h.Logs.Lines.ShouldAllBe(l => !l.Contains(sim.Options.Password) && !l.Contains(DeliveryHarness.Token));
    }

    [Fact]
    public async Task Faults_an_outage_and_a_crash_between_send_and_mark_lose_nothing_and_count_nothing_twice()
    {
        await using var sim = await StartDifyAsync(seed: 5);
        await using var h = await DeliveryHarness.CreateAsync(configure: WithDify(sim, s => s with { ApiMeterBatchSize = 7, MaxRetry = 3, MaxSpoolRetries = 10, ExternalApiTimeout = TimeSpan.FromSeconds(2) }));

        // 1. The server is down for the whole run: everything waits in the spool (exit 3).
        await h.Meter.TakeDownAsync();
        (await ExportAsync(h)).ShouldBe(ExitCodes.Spooled);
        h.Meter.Rows().ShouldBeEmpty();

        // 2. Back, with a timeout, a 503 and a 429 (retried within the run), then a batch whose response is lost
        //    after the server applied it on every attempt; the process then "dies" before marking it.
        await h.Meter.BringUpAsync();
        h.Meter.Enqueue(MeterFault.SlowBy(TimeSpan.FromSeconds(30)), MeterFault.ServiceUnavailable, MeterFault.RateLimited("3"), MeterFault.Pass);
        h.Meter.Enqueue(MeterFault.ApplyThenAbort, MeterFault.ApplyThenAbort, MeterFault.ApplyThenAbort, MeterFault.ApplyThenAbort);
        (await ExportAsync(h)).ShouldBe(ExitCodes.Spooled);
        h.Meter.Rows().ShouldNotBeEmpty();
        h.Meter.PendingFaults.ShouldBe(0);
        h.Logs.Lines.ShouldContain(l => l.Contains("EXTERNAL_API_TIMEOUT_MS"));
        h.Restart();
        h.Clock.Advance(TimeSpan.FromDays(10)); // "today" = 2026-03-20: the configured period is complete

        // 3. After the restart the scheduled cycle resends what was not acknowledged.
        var cycle = await DeliveryHarness.CreateCycleWithDifyAsync(h);
        var result = await cycle.RunCycleAsync("once", "e2e-run", Ct);
        result.Outcome.ShouldBe(CycleOutcome.Success, result.Summary);
        ServerShouldEqualGeneratorTruth(h.Meter, sim);
        (await h.Store.ReadOutboxAsync(null, null, null, Ct)).ShouldBeEmpty();

        // 4. Re-running the same export leaves the same state and sends nothing.
        var requests = h.Meter.Requests.Count;
        (await ExportAsync(h)).ShouldBe(ExitCodes.Success);
        h.Meter.Requests.Count.ShouldBe(requests);
        ServerShouldEqualGeneratorTruth(h.Meter, sim);
    }
}
