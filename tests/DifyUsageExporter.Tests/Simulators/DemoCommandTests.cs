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
        var exit = await DemoCommand.RunAsync(["--seed", "7", "--exporter", ExporterProcess.DllPath], output, cwd.Path);

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
