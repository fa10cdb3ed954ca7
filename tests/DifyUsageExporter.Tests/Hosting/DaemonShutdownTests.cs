using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Hosting;

/// <summary>
/// The daemon's exit code on a stop signal. The schedule runs on a fake clock; the grace period is
/// the generic host's shutdown timeout (GRACEFUL_SHUTDOWN_TIMEOUT), which the host measures itself.
/// </summary>
public class DaemonShutdownTests
{
    private static readonly DateTimeOffset Start = new(2025, 6, 1, 0, 0, 30, TimeSpan.Zero);

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 1)]
    public async Task A_stop_signal_waits_for_the_running_cycle_up_to_the_host_shutdown_timeout(bool cycleFinishesInTime, int expectedExitCode)
    {
        using var dir = new TempDir();
        var time = new FakeClock(Start);
        var data = Path.Combine(dir.Path, "data");
        var variables = ValidConfig.Variables(data);
        variables["HEALTHCHECK_ENABLED"] = "false";
        variables["CRON_SCHEDULE"] = "*/5 * * * *";
        variables["GRACEFUL_SHUTDOWN_TIMEOUT"] = cycleFinishesInTime ? "120" : "1";
        var cli = new CapturedEnvironment(variables, dir.Path, time);
        var runner = new TestCycleRunner();
        using var stop = new CancellationTokenSource();
        var ct = TestContext.Current.CancellationToken;

        var daemon = Task.Run(() => new Daemon(cli.Env, (_, _, _, _) => runner).RunAsync(once: false, stop.Token), ct);
        await WaitForLogAsync(cli, "Next export cycle at");
        await time.WaitForTimersAsync();
        time.Advance(TimeSpan.FromMinutes(5));
        await runner.Started.WaitAsync(TimeSpan.FromSeconds(60), ct);

        await stop.CancelAsync();
        await WaitForLogAsync(cli, $"waiting up to {variables["GRACEFUL_SHUTDOWN_TIMEOUT"]} s for the running cycle");
        if (cycleFinishesInTime)
        {
            runner.Finish();
        }

        (await daemon.WaitAsync(TimeSpan.FromSeconds(90), ct)).ShouldBe(expectedExitCode, cli.Out.ToString());
        var lines = JsonLogAssert.EveryLineHasExactlyFourFields(cli.Out.ToString());
        using var store = StateStore.Open(data, time);
        store.ReadLastCycle()!.Outcome.ShouldBe(cycleFinishesInTime ? "success" : "cancelled");
        if (!cycleFinishesInTime)
        {
            lines.ShouldContain(l => l.GetProperty("message").GetString()!.Contains("did not finish within GRACEFUL_SHUTDOWN_TIMEOUT (1 s)", StringComparison.Ordinal));
        }
    }

    private static async Task WaitForLogAsync(CapturedEnvironment cli, string text)
    {
        for (var i = 0; i < 2400 && !cli.Out.ToString().Contains(text, StringComparison.Ordinal); i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(25), TimeProvider.System, CancellationToken.None);
        }

        cli.Out.ToString().ShouldContain(text);
    }
}
