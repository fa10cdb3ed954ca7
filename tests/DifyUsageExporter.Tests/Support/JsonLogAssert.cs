using System.Text.Json;
using Shouldly;

namespace DifyUsageExporter.Tests.Support;

public static class JsonLogAssert
{
    /// <summary>Every non-empty line is a JSON object with exactly timestamp, level, message, context.</summary>
    public static List<JsonElement> EveryLineHasExactlyFourFields(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        lines.ShouldNotBeEmpty();
        var parsed = new List<JsonElement>();
        foreach (var line in lines)
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            root.EnumerateObject().Select(p => p.Name).ShouldBe(["timestamp", "level", "message", "context"], $"line: {line}");
            (root.GetProperty("timestamp").GetString() ?? string.Empty).ShouldMatch(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$");
            root.GetProperty("level").GetString().ShouldBeOneOf("error", "warn", "info", "debug");
            root.GetProperty("context").ValueKind.ShouldBe(JsonValueKind.Object);
            parsed.Add(root.Clone());
        }

        return parsed;
    }
}
