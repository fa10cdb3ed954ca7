using Shouldly;
using Simulators.Demo;
using Xunit;

namespace DifyUsageExporter.Tests.Simulators;

/// <summary>The README's first command: a labelled simulation through the real exporter process.</summary>
public class DemoCommandTests
{
    [Fact]
    public async Task Without_a_configured_Dify_the_demo_is_a_labelled_simulation_whose_API_Meter_state_equals_the_truth()
    {
        using var cwd = new TempDir();
        var output = new StringWriter();
        var exit = await DemoCommand.RunAsync(["--seed", "7", "--keep", "--exporter", ExporterProcess.DllPath], output, cwd.Path);

        var text = output.ToString();
        exit.ShouldBe(0, text);
        text.ShouldContain("SIMULATION: no Dify is configured");
        text.ShouldContain("[info] Export cycle finished: success");
        // The demo speaks current Dify and every cycle ends with a reconcile against Dify's statistics.
        text.ShouldContain("(1.17.1, ");
        text.ShouldMatch(@"\[info\] Reconciled \d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2} with Dify's statistics: \d+ app-days, 0 unexplained \(0 tokens\), 0 not readable");
        text.ShouldMatch(@"OK: all \d+ \(day, provider, model\) totals equal the simulator's ground truth");
        text.ShouldNotContain("Sim-Password-1!");
        text.ShouldNotContain("demo-meter-token-0001");

        // Issue 9 item 11: one end-of-cycle summary line; an info line per app with its event count.
        text.Split('\n').Count(l => l.Contains("finished", StringComparison.Ordinal) && l.Contains('[', StringComparison.Ordinal)).ShouldBe(1, text);
        text.ShouldNotContain("Delivery summary");
        text.ShouldMatch(@"\[info\] App .+ \(.+, (chat|workflow|advanced-chat|agent-chat|completion|agent|rag-pipeline)\): \d+ usage events read, complete");

        // --keep: the state directory stays, and the read commands work on it with the printed ENV_FILE.
        var kept = System.Text.RegularExpressions.Regex.Match(text, @"State kept in (\S+) \(--keep\)").Groups[1].Value;
        kept.ShouldNotBeEmpty(text);
        try
        {
            File.Exists(Path.Combine(kept, "exporter.db")).ShouldBeTrue();
            text.ShouldContain($"ENV_FILE={Path.Combine(kept, "demo.env")} dotnet run --project src/DifyUsageExporter -- spool list");
            var cli = new CapturedEnvironment(new Dictionary<string, string> { ["ENV_FILE"] = Path.Combine(kept, "demo.env") }, cwd.Path);
            cli.Run("spool", "list").ShouldBe(0, cli.Error.ToString());
            cli.Out.ToString().ShouldContain("The spool is empty.");
        }
        finally
        {
            Directory.Delete(kept, recursive: true);
        }
    }

    [Fact]
    public void A_Dify_url_in_the_env_file_of_the_working_directory_counts_as_configured_but_a_commented_one_does_not()
    {
        using var cwd = new TempDir();
        File.WriteAllText(Path.Combine(cwd.Path, ".env"), "# DIFY_API_BASE_URL=https://dify.example.com\nDIFY_EMAIL=a@example.com\n");
        DemoCommand.ConfiguredDify(cwd.Path).ShouldBeNull();

        File.WriteAllText(Path.Combine(cwd.Path, ".env"), "DIFY_API_URL=\"https://dify.example.com\"\n");
        DemoCommand.ConfiguredDify(cwd.Path).ShouldNotBeNull().ShouldContain("DIFY_API_URL");
    }
}
