using System.Text.Json;
using DifyUsageExporter.Hosting;

namespace DifyUsageExporter.Cli;

/// <summary><c>check --database</c> output (DIFY_SOURCE=database, docs/database-source.md).</summary>
public static partial class CheckCommand
{
    /// <summary>Writes the database check: one line per step, then the problem and fix (or one JSON object).</summary>
    private static void PrintDatabase(CommandEnvironment env, Dify.Database.DatabaseCheckResult result, bool json)
    {
        if (json)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteStartObject("database");
                w.WriteBoolean("ok", result.Ok);
                w.WriteString("failure", result.Failure?.ToString().ToLowerInvariant());
                w.WriteString("message", result.Problem);
                w.WriteString("fix", result.Fix);
                foreach (var (step, text) in result.Steps)
                {
                    w.WriteString(step, text);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            env.Out.WriteLine(env.Secrets.Mask(System.Text.Encoding.UTF8.GetString(buffer.ToArray())));
            return;
        }

        var lines = new List<string> { result.Ok ? "Dify database: OK" : $"Dify database: FAILED ({result.Failure?.ToString().ToLowerInvariant()})" };
        lines.AddRange(result.Steps.Select(s => $"  {s.Step + ":",-13}{s.Result}"));
        if (!result.Ok)
        {
            lines.Add($"  Problem:     {result.Problem}");
            lines.Add($"  Fix:         {result.Fix}");
        }

        foreach (var line in lines)
        {
            env.Out.WriteLine(env.Secrets.Mask(line));
        }
    }
}
