using System.Globalization;
using System.Text.Json;
using DifyUsageExporter.Cli;
using DifyUsageExporter.Storage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Cli;

/// <summary>Every read command prints a content-sized table for people and, with <c>--json</c>, one document for scripts.</summary>
public sealed class CliOutputTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void A_table_is_as_wide_as_its_content_numbers_right_aligned_with_a_totals_row_under_a_rule()
    {
        var table = new CliTable(new("day"), new("model"), new("requests", true), new("cost", true));
        table.Add("2026-03-01", "openai/gpt-4o", "7", "0.5000000");
        table.Add("2026-03-02", "anthropic/claude-3-5-sonnet", "12345678901", "10.0000000");
        table.Note("    a note");
        table.Totals("total", null, "12345678908", "10.5000000");
        using var text = new StringWriter();

        table.Write(text);

        text.ToString().Split(Environment.NewLine).ShouldBe(
        [
            "day         model                           requests        cost",
            "2026-03-01  openai/gpt-4o                          7   0.5000000",
            "2026-03-02  anthropic/claude-3-5-sonnet  12345678901  10.0000000",
            "    a note",
            "----------------------------------------------------------------",
            "total                                    12345678908  10.5000000",
            string.Empty,
        ]);
    }

    [Fact]
    public void Config_json_lists_every_variable_with_its_source_and_masks_secrets()
    {
        using var dir = new TempDir();
        var variables = ValidConfig.Variables(dir.Path);
        var cli = new CapturedEnvironment(variables, dir.Path);

        cli.Run("config", "--json").ShouldBe(0, cli.Error.ToString());

        using var doc = JsonDocument.Parse(cli.Out.ToString());
        doc.RootElement.GetProperty("valid").GetBoolean().ShouldBeTrue();
        var byName = doc.RootElement.GetProperty("variables").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!, v => v);
        byName["DIFY_API_BASE_URL"].GetProperty("value").GetString().ShouldBe(variables["DIFY_API_BASE_URL"]);
        byName["DIFY_EMAIL"].GetProperty("value").GetString().ShouldBe(variables["DIFY_EMAIL"]);
        byName["DATA_DIR"].GetProperty("source").GetString().ShouldNotBe(byName["CRON_SCHEDULE"].GetProperty("source").GetString(), "set vs default");
        cli.Out.ToString().ShouldNotContain(ValidConfig.Password);
        cli.Out.ToString().ShouldNotContain(ValidConfig.MeterToken);
    }

    [Fact]
    public async Task Watermark_show_json_gives_each_apps_watermark_as_stored()
    {
        using var dir = new TempDir();
        var first = new DateTimeOffset(2026, 3, 1, 15, 0, 0, TimeSpan.Zero);
        var second = new DateTimeOffset(2026, 3, 2, 4, 30, 0, TimeSpan.Zero);
        using (var store = StateStore.Open(dir.Path, TimeProvider.System))
        {
            await store.SetWatermarkAsync("app-1", "Support bot", first, Ct);
            await store.SetWatermarkAsync("app-2", "Summariser", second, Ct);
        }

        var cli = new CapturedEnvironment(ValidConfig.Variables(dir.Path), dir.Path);
        cli.Run("watermark", "show", "--json").ShouldBe(0, cli.Error.ToString());

        using var doc = JsonDocument.Parse(cli.Out.ToString());
        var marks = doc.RootElement.EnumerateArray()
            .ToDictionary(m => m.GetProperty("app_id").GetString()!, m => (Name: m.GetProperty("app_name").GetString(), At: DateTimeOffset.Parse(m.GetProperty("watermark").GetString()!, CultureInfo.InvariantCulture)));
        marks.Count.ShouldBe(2);
        marks["app-1"].ShouldBe(("Support bot", first));
        marks["app-2"].ShouldBe(("Summariser", second));

        var table = new CapturedEnvironment(ValidConfig.Variables(dir.Path), dir.Path);
        table.Run("watermark", "show").ShouldBe(0);
        var lines = table.Out.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldStartWith("APP_ID  APP_NAME");
        lines.Skip(1).ShouldAllBe(l => l.IndexOf(l.Contains("app-1", StringComparison.Ordinal) ? "Support bot" : "Summariser", StringComparison.Ordinal) == lines[0].IndexOf("APP_NAME", StringComparison.Ordinal));
    }
}
