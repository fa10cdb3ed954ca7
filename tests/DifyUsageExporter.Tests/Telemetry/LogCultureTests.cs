using System.Globalization;
using System.Text.Json;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Sync;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Telemetry;

/// <summary>
/// Structured log values are invariant ISO text whatever the thread's culture (issue 9, item 11):
/// days yyyy-MM-dd, instants ISO 8601 UTC, numbers as JSON numbers. The exporter itself runs with
/// invariant globalization (so do these tests: no ICU cultures to pick from), but the writer must
/// not depend on it; the cultures here are built with de-DE's, ja-JP's and fr-FR's date and number
/// formats. The real process under LANG=de_DE is covered by <see cref="Hosting.SignalCancellationTests"/>.
/// </summary>
public class LogCultureTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 20, 1, 2, 3, 456, TimeSpan.Zero);

    [Theory]
    [InlineData("de-DE")]
    [InlineData("ja-JP")]
    [InlineData("fr-FR")]
    public void Days_instants_and_numbers_are_invariant_ISO_in_the_json_log_under_any_culture(string culture)
    {
        var output = new StringWriter();
        var before = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = Like(culture);
            using var factory = Logging.CreateFactory(LogLevelSetting.Debug, output, new SecretRegistry(), new FakeTimeProvider(Now));
            var logger = factory.CreateLogger("DifyUsageExporter.Test");
            DifyLog.Extracted(logger, new DateOnly(2026, 3, 1), new DateOnly(2026, 3, 31), "Asia/Tokyo", 123456, 7, 1, 0);
            DifyLog.AgentZeroUsage(logger, "Agent", "app-1", new DateOnly(2026, 12, 24), 3);
            DifyLog.ReadFrom(logger, "Flow", "app-2", new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.FromHours(9)), new DateTimeOffset(2026, 2, 28, 15, 0, 0, TimeSpan.Zero));
            SyncLog.CycleFinished(logger, LogLevel.Information, "success", 1234.567, "done");
            MeteringLog.NotifySuppressed(logger, "cycle_failed", TimeSpan.FromMinutes(15));
            logger.LogInformation("Cost {Cost} ratio {Ratio} at {At} day {Day}", 1234.5678901m, 0.125, new DateTime(2026, 3, 1, 9, 30, 0, DateTimeKind.Utc), new DateOnly(2026, 1, 2));
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = before;
        }

        var lines = JsonLogAssert.EveryLineHasExactlyFourFields(output.ToString());
        lines.Count.ShouldBe(6);
        lines.ShouldAllBe(l => l.GetProperty("timestamp").GetString() == "2026-03-20T01:02:03.456Z");

        var extracted = lines[0];
        extracted.GetProperty("message").GetString().ShouldBe("Extracted 2026-03-01..2026-03-31 (Asia/Tokyo): 123456 events from 7 apps, 1 skipped, 0 failures");
        extracted.GetProperty("context").GetProperty("from").GetString().ShouldBe("2026-03-01");
        extracted.GetProperty("context").GetProperty("to").GetString().ShouldBe("2026-03-31");
        extracted.GetProperty("context").GetProperty("events").GetRawText().ShouldBe("123456");

        lines[1].GetProperty("context").GetProperty("day").GetString().ShouldBe("2026-12-24");
        lines[1].GetProperty("message").GetString()!.ShouldContain(" on 2026-12-24 ");

        lines[2].GetProperty("context").GetProperty("readFrom").GetString().ShouldBe("2026-03-01T00:30:00.000Z");
        lines[2].GetProperty("context").GetProperty("windowStart").GetString().ShouldBe("2026-02-28T15:00:00.000Z");

        lines[3].GetProperty("context").GetProperty("durationSeconds").GetRawText().ShouldBe("1234.567");
        lines[3].GetProperty("message").GetString()!.ShouldContain("in 1234.567 s.");

        lines[4].GetProperty("context").GetProperty("minInterval").GetRawText().ShouldBe("900");

        var context = lines[5].GetProperty("context");
        context.GetProperty("cost").GetRawText().ShouldBe("1234.5678901");
        context.GetProperty("ratio").GetRawText().ShouldBe("0.125");
        context.GetProperty("at").GetString().ShouldBe("2026-03-01T09:30:00.000Z");
        context.GetProperty("day").GetString().ShouldBe("2026-01-02");
        lines[5].GetProperty("message").GetString().ShouldBe("Cost 1234.5678901 ratio 0.125 at 2026-03-01T09:30:00.000 day 2026-01-02");
        lines.ShouldAllBe(l => l.GetProperty("context").ValueKind == JsonValueKind.Object);
    }

    /// <summary>A culture with the date and number formats of <paramref name="name"/> (invariant globalization has no others).</summary>
    private static CultureInfo Like(string name)
    {
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        var (date, time, dateSeparator, decimalSeparator, groupSeparator) = name switch
        {
            "de-DE" => ("dd.MM.yyyy", "HH:mm:ss", ".", ",", "."),
            "ja-JP" => ("yyyy'年'M'月'd'日'", "H:mm:ss", "/", ".", ","),
            _ => ("dd/MM/yyyy", "HH:mm:ss", "/", ",", "\u202f"),
        };
        culture.DateTimeFormat.ShortDatePattern = date;
        culture.DateTimeFormat.LongDatePattern = date;
        culture.DateTimeFormat.LongTimePattern = time;
        culture.DateTimeFormat.DateSeparator = dateSeparator;
        culture.NumberFormat.NumberDecimalSeparator = decimalSeparator;
        culture.NumberFormat.NumberGroupSeparator = groupSeparator;
        culture.NumberFormat.CurrencyDecimalSeparator = decimalSeparator;
        culture.NumberFormat.PercentDecimalSeparator = decimalSeparator;
        // Proves the culture is in effect: the assertions below would pass trivially otherwise.
        new DateOnly(2026, 3, 1).ToString(culture).ShouldNotBe("2026-03-01");
        return culture;
    }
}
