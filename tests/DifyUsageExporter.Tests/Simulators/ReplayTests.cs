using DifyUsageExporter.Tests.Dify;
using Shouldly;
using Simulators.Dify;
using Simulators.Replay;
using Xunit;

namespace DifyUsageExporter.Tests.Simulators;

/// <summary>
/// The benchmark's floor client (benchmarks/README.md): the simulator records the exporter's GETs
/// and <c>Simulators replay</c> sends exactly those again, in every auth era.
/// </summary>
public sealed class ReplayTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(DifyAuthMode.Legacy, false)]
    [InlineData(DifyAuthMode.Cookie, false)]
    [InlineData(DifyAuthMode.CookieBase64, true)]
    public async Task The_replay_sends_exactly_the_recorded_requests_and_they_all_succeed(DifyAuthMode auth, bool warmup)
    {
        var workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 81, ConversationsPerApp = 4, RunsPerWorkflowApp = 6 });
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = auth, Workspace = workspace, RecordRequests = true }, Ct);
        using var run = new SimHarness(sim);
        (await run.ExtractAsync(new DateOnly(2026, 3, 1), new DateOnly(2026, 3, 15))).Failures.ShouldBeEmpty();
        var served = sim.Counters.ByPath.Where(kv => kv.Key.StartsWith("GET ", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
        served.Values.Sum().ShouldBeGreaterThan(20, "precondition: the extraction made many GETs");

        using var http = new HttpClient { BaseAddress = sim.BaseUrl };
        var recorded = await http.GetStringAsync(new Uri("_sim/requests", UriKind.Relative), Ct);
        var file = Path.Combine(Path.GetTempPath(), $"replay-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(file, recorded, Ct);
        var lines = recorded.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(served.Values.Sum());
        lines.ShouldContain(l => l.Contains('?', StringComparison.Ordinal), "queries are kept");
        sim.Counters.Reset();

        using var output = new StringWriter();
        var exit = await ReplayCommand.RunAsync(["--url", sim.BaseUrl.ToString(), "--requests", file, "--concurrency", "4", "--warmup", warmup ? "1" : "0"], output);
        File.Delete(file);

        exit.ShouldBe(0, output.ToString());
        output.ToString().ShouldContain($"\"requests\":{lines.Length},\"failed\":0,");
        sim.Counters.Unauthorized.ShouldBe(0);
        // Every path as often as the exporter asked for it (a warm-up pass resets the counters after
        // itself, so they cover the timed pass alone), plus the replay's own login before any pass.
        sim.Counters.ByPath.Where(kv => kv.Key.StartsWith("GET ", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value).ShouldBe(served, ignoreOrder: true);
        sim.Counters.Logins.ShouldBe(warmup ? 0 : 1);
    }

    [Fact]
    public async Task Without_recording_the_endpoint_says_how_to_turn_it_on()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { Workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 82 }) }, Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseUrl };
        using var response = await http.GetAsync(new Uri("_sim/requests", UriKind.Relative), Ct);
        ((int)response.StatusCode).ShouldBe(409);
        (await response.Content.ReadAsStringAsync(Ct)).ShouldContain("--record-requests");
    }
}
