using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using Microsoft.Data.Sqlite;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Hosting;

/// <summary>The daemon's start and its unexpected failures: one JSON error line and exit 1, never a plain-text stack trace.</summary>
public class DaemonFailureTests
{
    private static readonly DateTimeOffset Start = new(2025, 6, 1, 0, 0, 30, TimeSpan.Zero);

    [Fact]
    public async Task A_failure_while_building_the_cycle_is_one_JSON_error_line_and_exit_1()
    {
        var (cli, _) = Environment(out var time);

        var code = await Task.Run(() => new Daemon(cli.Env, (_, _, _, _) => throw new InvalidOperationException("cannot build the cycle")).RunAsync(once: false, CancellationToken.None), TestContext.Current.CancellationToken);

        code.ShouldBe(1);
        AssertOneFatalLine(cli, "cannot build the cycle");
    }

    [Fact]
    public async Task A_scheduler_that_fails_stops_the_host_with_one_JSON_error_line_and_exit_1()
    {
        var (cli, _) = Environment(out var time);
        var runner = new TestCycleRunner();

        // The store loses its cycles table after start-up has read it: the scheduler's first write fails.
        var code = await Task.Run(
            () => new Daemon(cli.Env, (_, store, _, _) =>
            {
                using (var connection = new SqliteConnection($"Data Source={store.Path}"))
                {
                    connection.Open();
                    using var drop = connection.CreateCommand();
                    drop.CommandText = "DROP TABLE cycles";
                    drop.ExecuteNonQuery();
                }

                return runner;
            }).RunAsync(once: false, CancellationToken.None),
            TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(90), TestContext.Current.CancellationToken);

        code.ShouldBe(1);
        AssertOneFatalLine(cli, "The scheduler failed unexpectedly");
        runner.Calls.ShouldBe(0);
    }

    [Fact]
    public async Task At_start_a_cycle_left_without_outcome_by_a_crash_is_closed_as_abandoned()
    {
        var (cli, data) = Environment(out var time);
        using (var store = StateStore.Open(data, time))
        {
            await store.RecordCycleStartAsync("crashed", "schedule", Start.AddDays(-1), CancellationToken.None);
        }

        using var stop = new CancellationTokenSource();
        var daemon = Task.Run(() => new Daemon(cli.Env, (_, _, _, _) => new TestCycleRunner()).RunAsync(once: false, stop.Token), TestContext.Current.CancellationToken);
        for (var i = 0; i < 2400 && !cli.Out.ToString().Contains("Next export cycle at", StringComparison.Ordinal); i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(25), TimeProvider.System, TestContext.Current.CancellationToken);
        }

        using (var store = StateStore.Open(data, time))
        {
            var crashed = store.ReadLastCycle()!;
            crashed.Id.ShouldBe("crashed");
            crashed.Outcome.ShouldBe(StateStore.AbandonedOutcome);
            crashed.FinishedAt.ShouldBe(Start);
        }

        cli.Out.ToString().ShouldContain("1 cycle(s) left without an outcome by an earlier process (crash or kill) were closed as abandoned");
        await stop.CancelAsync();
        (await daemon.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken)).ShouldBe(0);
    }

    private static (CapturedEnvironment Cli, string Data) Environment(out FakeClock time)
    {
        var dir = new TempDir();
        time = new FakeClock(Start);
        var data = Path.Combine(dir.Path, "data");
        var variables = ValidConfig.Variables(data);
        variables["HEALTHCHECK_ENABLED"] = "false";
        return (new CapturedEnvironment(variables, dir.Path, time), data);
    }

    private static void AssertOneFatalLine(CapturedEnvironment cli, string text)
    {
        var lines = JsonLogAssert.EveryLineHasExactlyFourFields(cli.Out.ToString());
        var errors = lines.Where(l => l.GetProperty("level").GetString() == "error").ToList();
        errors.Count.ShouldBe(1, cli.Out.ToString());
        errors[0].GetProperty("message").GetString()!.ShouldContain(text);
        errors[0].GetProperty("context").GetProperty("exception").GetProperty("stackTrace").GetString().ShouldNotBeNullOrEmpty();
        cli.Error.ToString().ShouldBeEmpty();
        lines[^1].GetProperty("message").GetString()!.ShouldContain("exit code 1");
    }
}
