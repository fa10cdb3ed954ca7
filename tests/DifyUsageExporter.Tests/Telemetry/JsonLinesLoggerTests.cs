using System.Text.Json;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Telemetry;

public class JsonLinesLoggerTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 34, 56, 789, TimeSpan.Zero);

    private static (ILoggerFactory Factory, StringWriter Output) Create(LogLevelSetting level = LogLevelSetting.Debug, SecretRegistry? secrets = null)
    {
        var output = new StringWriter();
        return (Logging.CreateFactory(level, output, secrets ?? new SecretRegistry(), new FakeTimeProvider(Now)), output);
    }

    [Fact]
    public void Each_entry_is_one_line_with_exactly_the_four_fields_and_structured_context()
    {
        var (factory, output) = Create();
        var logger = factory.CreateLogger("DifyUsageExporter.Sync.Scheduler");
        using (logger.BeginScope(new Dictionary<string, object?> { ["runId"] = "run-1" }))
        {
            logger.LogInformation("Delivered {Records} records to {Target} ok={Ok}", 42, "meter", true);
        }

        logger.LogWarning("plain warning");
        logger.LogError(new InvalidOperationException("boom"), "failed");
        logger.LogDebug("details");
        logger.LogCritical("critical maps to error");

        var lines = JsonLogAssert.EveryLineHasExactlyFourFields(output.ToString());
        lines.Count.ShouldBe(5);
        lines[0].GetProperty("timestamp").GetString().ShouldBe("2025-06-01T12:34:56.789Z");
        lines[0].GetProperty("level").GetString().ShouldBe("info");
        lines[0].GetProperty("message").GetString().ShouldBe("Delivered 42 records to meter ok=True");
        var context = lines[0].GetProperty("context");
        context.GetProperty("module").GetString().ShouldBe("Sync.Scheduler");
        context.GetProperty("runId").GetString().ShouldBe("run-1");
        context.GetProperty("records").GetInt32().ShouldBe(42);
        context.GetProperty("target").GetString().ShouldBe("meter");
        context.GetProperty("ok").GetBoolean().ShouldBeTrue();
        lines[1].GetProperty("level").GetString().ShouldBe("warn");
        lines[1].GetProperty("context").TryGetProperty("runId", out _).ShouldBeFalse();
        lines[2].GetProperty("level").GetString().ShouldBe("error");
        lines[2].GetProperty("context").GetProperty("exception").GetProperty("message").GetString().ShouldBe("boom");
        lines[3].GetProperty("level").GetString().ShouldBe("debug");
        lines[4].GetProperty("level").GetString().ShouldBe("error");
    }

    [Theory]
    [InlineData(LogLevelSetting.Error, new[] { "error" })]
    [InlineData(LogLevelSetting.Warn, new[] { "error", "warn" })]
    [InlineData(LogLevelSetting.Info, new[] { "error", "warn", "info" })]
    [InlineData(LogLevelSetting.Debug, new[] { "error", "warn", "info", "debug" })]
    public void LOG_LEVEL_filters(LogLevelSetting level, string[] expected)
    {
        var (factory, output) = Create(level);
        var logger = factory.CreateLogger("DifyUsageExporter.Test");
        logger.LogError("e");
        logger.LogWarning("w");
        logger.LogInformation("i");
        logger.LogDebug("d");
        logger.LogTrace("t");

        var levels = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("level").GetString());
        levels.ShouldBe(expected);
    }
    [Fact]
    public void Dates_and_instants_in_messages_are_written_in_iso_form_not_us_style()
    {
        var (factory, output) = Create();
        var logger = factory.CreateLogger("DifyUsageExporter.Dify.DifyUsageSource");
        var tokyoInstant = new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.FromHours(9));
        logger.LogInformation("Extracted {From}..{To} from {At}, cost {Cost}, {{literal}}", new DateOnly(2026, 3, 1), new DateOnly(2026, 3, 15), tokyoInstant, 0.0000006m);

        var line = JsonLogAssert.EveryLineHasExactlyFourFields(output.ToString()).Single();
        // 09:30 in Tokyo (UTC+9) is 00:30 UTC.
        line.GetProperty("message").GetString().ShouldBe("Extracted 2026-03-01..2026-03-15 from 2026-03-01T00:30:00.000Z, cost 0.0000006, {literal}");
    }
}
