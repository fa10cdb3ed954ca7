using DifyUsageExporter.Cli;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Tests.Sync;
using Shouldly;
using Xunit;
using static DifyUsageExporter.Tests.Sync.DeliveryHarness;

namespace DifyUsageExporter.Tests.Cli;

/// <summary>Issue 9 item 11: export --output validated before extraction; one summary line at the outcome's level.</summary>
public class OperatorSurfaceTests
{
    private static readonly DateOnly D1 = new(2026, 3, 1);

    [Fact]
    public async Task Export_output_is_validated_before_any_extraction()
    {
        await using var h = await CreateAsync();
        h.Source.Events.Add(Event(D1, "openai", "gpt-4o", 10, 5, 0.01m));
        using var dir = new TempDir();
        var missing = Path.Combine(dir.Path, "no-such-dir", "usage.csv");

        var asDirectory = await CliHarness.InvokeAsync(h, "export", "--from", "2026-03-01", "--to", "2026-03-01", "--format", "csv", "--output", dir.Path);
        var inMissingDirectory = await CliHarness.InvokeAsync(h, "export", "--from", "2026-03-01", "--to", "2026-03-01", "--format", "csv", "--output", missing);

        asDirectory.ExitCode.ShouldBe(ExitCodes.Usage);
        asDirectory.Error.ShouldContain($"--output {dir.Path} is a directory; give a file path");
        inMissingDirectory.ExitCode.ShouldBe(ExitCodes.Usage);
        inMissingDirectory.Error.ShouldContain($"the directory {Path.GetDirectoryName(missing)} does not exist");
        (await CountEventsAsync(h)).ShouldBe(0, "nothing may be extracted before --output is known to be writable");
        h.Meter.Requests.ShouldBeEmpty();

        // The same export with a good path extracts and writes the file (the check above is not vacuous).
        var good = Path.Combine(dir.Path, "usage.csv");
        var ok = await CliHarness.InvokeAsync(h, "export", "--from", "2026-03-01", "--to", "2026-03-01", "--format", "csv", "--output", good);
        ok.ExitCode.ShouldBe(ExitCodes.Success, ok.Error);
        (await CountEventsAsync(h)).ShouldBe(1);
        File.ReadAllLines(good).Length.ShouldBe(2);
    }

    [Theory]
    [InlineData(CycleOutcome.Success, "info")]
    [InlineData(CycleOutcome.Spooled, "warn")]
    [InlineData(CycleOutcome.Failed, "error")]
    public void Run_once_logs_one_summary_line_at_the_level_of_its_outcome(CycleOutcome outcome, string level)
    {
        using var dir = new TempDir();
        var cli = new CapturedEnvironment(ValidConfig.Variables(Path.Combine(dir.Path, "data")), dir.Path);
        var runner = new TestCycleRunner();
        runner.Finish(outcome);

        CliApp.Run(["run", "--once"], cli.Env, (_, _, _, _) => runner);

        var summaries = JsonLogAssert.EveryLineHasExactlyFourFields(cli.Out.ToString())
            .Where(l => l.GetProperty("message").GetString()!.Contains("finished", StringComparison.Ordinal)).ToList();
        summaries.Count.ShouldBe(1);
        summaries[0].GetProperty("level").GetString().ShouldBe(level);
        summaries[0].GetProperty("message").GetString()!.ShouldStartWith($"Export cycle finished: {outcome.ToString().ToLowerInvariant()} in ");
    }

    private static async Task<int> CountEventsAsync(DeliveryHarness h)
    {
        var n = 0;
        await foreach (var _ in h.Store.ReadEventsAsync(D1, D1, TestContext.Current.CancellationToken))
        {
            n++;
        }

        return n;
    }
}
