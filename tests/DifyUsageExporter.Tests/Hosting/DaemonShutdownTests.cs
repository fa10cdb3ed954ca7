using DifyUsageExporter.Hosting;
using DifyUsageExporter.Tests.Support;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Hosting;

/// <summary>The daemon's exit code on a stop signal, driven by a fake clock (no timing assertions).</summary>
public class DaemonShutdownTests
{
    private static readonly DateTimeOffset Start = new(2025, 6, 1, 0, 0, 30, TimeSpan.Zero);

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 1)]
    public async Task A_stop_signal_waits_for_the_running_cycle_up_to_the_timeout(bool cycleFinishesInTime, int expectedExitCode)
    {
        using var dir = new TempDir();
        var time = new ManualTimeProvider(Start);
        var variables = ValidConfig.Variables(Path.Combine(dir.Path, "data"));
        variables["HEALTHCHECK_ENABLED"] = "false";
        variables["CRON_SCHEDULE"] = "*/5 * * * *";
        variables["GRACEFUL_SHUTDOWN_TIMEOUT"] = "30";
        var cli = new CapturedEnvironment(variables, dir.Path, time);
        var runner = new TestCycleRunner();
        using var stop = new CancellationTokenSource();
        var ct = TestContext.Current.CancellationToken;

        var daemon = Task.Run(() => new Daemon(cli.Env, (_, _, _, _) => runner).RunAsync(once: false, stop.Token), ct);
        await time.WaitForTimersAsync();
        time.Advance(TimeSpan.FromMinutes(5));
        await runner.Started.WaitAsync(TimeSpan.FromSeconds(60), ct);
        await time.WaitForTimersAsync();

        await stop.CancelAsync();
        await WaitForLogAsync(cli, "waiting up to 30 s for the running cycle");
        await time.WaitForTimersAsync();
        if (cycleFinishesInTime)
        {
            time.Advance(TimeSpan.FromSeconds(20));
            runner.Finish();
        }
        else
        {
            time.Advance(TimeSpan.FromSeconds(31));
        }

        (await daemon.WaitAsync(TimeSpan.FromSeconds(60), ct)).ShouldBe(expectedExitCode, cli.Out.ToString());
        JsonLogAssert.EveryLineHasExactlyFourFields(cli.Out.ToString());
    }

    private static async Task WaitForLogAsync(CapturedEnvironment cli, string text)
    {
        for (var i = 0; i < 1200 && !cli.Out.ToString().Contains(text, StringComparison.Ordinal); i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(25), TimeProvider.System, CancellationToken.None);
        }

        cli.Out.ToString().ShouldContain(text);
    }
}
