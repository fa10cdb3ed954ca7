using System.Text.Json;
using DifyUsageExporter.Cli;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Cli;

public class UsageCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Usage_extracts_then_ledger_reads_the_same_totals()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Cookie, AccountTimeZone = "America/New_York", Workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 9 }) }, Ct);
        using var dir = new TempDir();
        var settings = new ExporterSettings { DifyBaseUrl = sim.BaseUrl, DifyEmail = sim.Options.Email, DifyPassword = sim.Options.Password, DataDir = dir.Path, DifyFetchRetryDelay = TimeSpan.FromMilliseconds(1) };
        var from = new DateOnly(2026, 3, 7);
        var to = new DateOnly(2026, 3, 9);

        var extract = new CliTestEnvironment(settings);
        (await UsageCommand.RunAsync(extract.Env, new UsageCommand.UsageRequest(from, to, null, true, false, false), Ct)).ShouldBe(ExitCodes.Success);
        using var doc = JsonDocument.Parse(extract.Out.ToString());
        doc.RootElement.GetProperty("time_zone").GetString().ShouldBe("America/New_York");
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToList();
        var truth = sim.Truth.EventsIn(sim.AccountZone, from, to).GroupBy(e => e.LocalDate(sim.AccountZone)).OrderBy(g => g.Key).ToList();
        rows.Count.ShouldBe(truth.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            rows[i].GetProperty("usage_date").GetString().ShouldBe(truth[i].Key.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
            rows[i].GetProperty("request_count").GetInt64().ShouldBe(truth[i].Count());
            rows[i].GetProperty("input_tokens").GetInt64().ShouldBe(truth[i].Sum(e => e.InputTokens));
            rows[i].GetProperty("output_tokens").GetInt64().ShouldBe(truth[i].Sum(e => e.OutputTokens));
            rows[i].GetProperty("cost").GetDecimal().ShouldBe(truth[i].Sum(e => e.Cost));
            rows[i].GetProperty("complete").GetBoolean().ShouldBeTrue();
        }

        var before = sim.Counters.TotalRequests;
        var ledger = new CliTestEnvironment(settings);
        (await UsageCommand.RunAsync(ledger.Env, new UsageCommand.UsageRequest(from, to, "model", false, true, false), Ct)).ShouldBe(ExitCodes.Success);
        sim.Counters.TotalRequests.ShouldBe(before);
        var table = ledger.Out.ToString();
        table.ShouldContain("from the ledger");
        foreach (var row in sim.Truth.ByDayProviderModel(sim.AccountZone, from, to))
        {
            table.ShouldContain($"{row.Provider}/{row.Model}");
        }

        // Days never extracted are reported incomplete from the ledger (exit 1).
        var missing = new CliTestEnvironment(settings);
        (await UsageCommand.RunAsync(missing.Env, new UsageCommand.UsageRequest(from.AddDays(-3), to, "app", false, true, false), Ct)).ShouldBe(ExitCodes.Failure);
        missing.Out.ToString().ShouldContain("INCOMPLETE");
    }

    [Fact]
    public async Task Usage_json_and_table_carry_totals_equal_to_the_simulators_truth()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Cookie, AccountTimeZone = "Asia/Tokyo", Workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 11 }) }, Ct);
        using var dir = new TempDir();
        var settings = new ExporterSettings { DifyBaseUrl = sim.BaseUrl, DifyEmail = sim.Options.Email, DifyPassword = sim.Options.Password, DataDir = dir.Path, DifyFetchRetryDelay = TimeSpan.FromMilliseconds(1) };
        var from = new DateOnly(2026, 3, 7);
        var to = new DateOnly(2026, 3, 9);
        (await UsageCommand.RunAsync(new CliTestEnvironment(settings).Env, new UsageCommand.UsageRequest(from, to, null, true, false, false), Ct)).ShouldBe(ExitCodes.Success);
        var truth = sim.Truth.EventsIn(sim.AccountZone, from, to).ToList();
        truth.ShouldNotBeEmpty();

        var json = new CliTestEnvironment(settings);
        (await UsageCommand.RunAsync(json.Env, new UsageCommand.UsageRequest(from, to, "model", true, true, false), Ct)).ShouldBe(ExitCodes.Success);
        using var doc = JsonDocument.Parse(json.Out.ToString());
        var total = doc.RootElement.GetProperty("totals").EnumerateArray().ShouldHaveSingleItem();
        total.GetProperty("currency").GetString().ShouldBe("USD");
        total.GetProperty("request_count").GetInt64().ShouldBe(truth.Count);
        total.GetProperty("input_tokens").GetInt64().ShouldBe(truth.Sum(e => e.InputTokens));
        total.GetProperty("output_tokens").GetInt64().ShouldBe(truth.Sum(e => e.OutputTokens));
        total.GetProperty("total_tokens").GetInt64().ShouldBe(truth.Sum(e => e.InputTokens + e.OutputTokens));
        total.GetProperty("cost").GetDecimal().ShouldBe(truth.Sum(e => e.Cost));
        total.GetProperty("complete").GetBoolean().ShouldBeTrue();

        var table = new CliTestEnvironment(settings);
        (await UsageCommand.RunAsync(table.Env, new UsageCommand.UsageRequest(from, to, "model", false, true, false), Ct)).ShouldBe(ExitCodes.Success);
        var totalLine = table.Out.ToString().Split('\n').Single(l => l.StartsWith("total ", StringComparison.Ordinal));
        totalLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).ShouldBe(
        [
            "total",
            truth.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            truth.Sum(e => e.InputTokens).ToString(System.Globalization.CultureInfo.InvariantCulture),
            truth.Sum(e => e.OutputTokens).ToString(System.Globalization.CultureInfo.InvariantCulture),
            truth.Sum(e => e.InputTokens + e.OutputTokens).ToString(System.Globalization.CultureInfo.InvariantCulture),
            Math.Round(truth.Sum(e => e.Cost), 7, MidpointRounding.AwayFromZero).ToString("0.0000000", System.Globalization.CultureInfo.InvariantCulture),
            "USD",
        ]);
    }

    [Fact]
    public void Command_shape_parses_options()
    {
        var env = new CliTestEnvironment(new ExporterSettings());
        var command = UsageCommand.Create(env.Env);
        command.Name.ShouldBe("usage");
        command.Parse("--from 2026-03-01 --to 2026-03-02 --by model --json --ledger").Errors.ShouldBeEmpty();
        command.Parse("--from 2026-03-01 --by nope").Errors.ShouldNotBeEmpty();
        command.Parse("--to 2026-03-01").Errors.ShouldNotBeEmpty();
        CheckCommand.Create(env.Env).Parse("--dify --json").Errors.ShouldBeEmpty();
    }
}
