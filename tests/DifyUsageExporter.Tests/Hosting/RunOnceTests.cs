using DifyUsageExporter.Cli;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Hosting;

public class RunOnceTests
{
    [Theory]
    [InlineData(CycleOutcome.Success, 0)]
    [InlineData(CycleOutcome.Spooled, 3)]
    [InlineData(CycleOutcome.Failed, 1)]
    public void Run_once_exits_with_the_code_of_the_cycle_outcome_and_records_the_cycle(CycleOutcome outcome, int expected)
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        var cli = new CapturedEnvironment(ValidConfig.Variables(data), dir.Path);
        var runner = new TestCycleRunner();
        runner.Finish(outcome);

        CliApp.Run(["run", "--once"], cli.Env, (_, _, _, _) => runner).ShouldBe(expected);

        runner.Calls.ShouldBe(1);
        using var store = StateStore.Open(data, TimeProvider.System);
        var cycle = store.ReadLastCycle().ShouldNotBeNull();
        cycle.Trigger.ShouldBe("once");
        cycle.Outcome.ShouldBe(outcome.ToString().ToLowerInvariant());
        JsonLogAssert.EveryLineHasExactlyFourFields(cli.Out.ToString());
    }

    [Fact]
    public void The_seed_flag_run_once_works_without_the_run_command()
    {
        using var dir = new TempDir();
        var cli = new CapturedEnvironment(ValidConfig.Variables(Path.Combine(dir.Path, "data")), dir.Path);
        var runner = new TestCycleRunner();
        runner.Finish();

        CliApp.Run(["--run-once"], cli.Env, (_, _, _, _) => runner).ShouldBe(0);

        runner.Calls.ShouldBe(1);
    }

    [Fact]
    public void Health_with_the_server_disabled_says_so_and_exits_1()
    {
        using var dir = new TempDir();
        var cli = new CapturedEnvironment(new Dictionary<string, string> { ["HEALTHCHECK_ENABLED"] = "false" }, dir.Path);

        cli.Run("health").ShouldBe(1);
        cli.Error.ToString().ShouldContain("HEALTHCHECK_ENABLED=false");
    }
}
