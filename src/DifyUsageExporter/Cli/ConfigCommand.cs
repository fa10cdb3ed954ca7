using System.CommandLine;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Telemetry;

namespace DifyUsageExporter.Cli;

/// <summary><c>config [--check]</c>: print the effective configuration (secrets masked, with sources), or only validate it.</summary>
public static class ConfigCommand
{
    public static Command Create(CommandEnvironment env)
    {
        var check = new Option<bool>("--check") { Description = "Only validate: exit 0 when valid, 1 listing every problem." };
        var json = CliOutput.JsonOption("Print the configuration, warnings and problems as one JSON document.");
        var command = new Command("config", "Show the effective configuration with secrets masked and where each value came from.") { check, json };
        command.SetAction(parse => parse.GetValue(json) ? ExecuteJson(env, parse.GetValue(check)) : Execute(env, parse.GetValue(check)));
        return command;
    }

    private static int Execute(CommandEnvironment env, bool checkOnly)
    {
        var snapshot = env.InspectConfiguration();
        // A secret pasted into the wrong variable is still a secret: everything printed is masked.
        var masker = new LogMasker(env.Secrets);
        if (!checkOnly)
        {
            using var table = new StringWriter();
            Print(table, snapshot);
            env.Out.Write(masker.Apply(table.ToString()));
        }

        foreach (var warning in snapshot.Warnings)
        {
            env.Error.WriteLine(masker.Apply($"warning: {warning}"));
        }

        if (snapshot.Problems.Count > 0)
        {
            env.Error.WriteLine($"The configuration has {snapshot.Problems.Count} problem(s):");
            foreach (var problem in snapshot.Problems)
            {
                env.Error.WriteLine(masker.Apply($"  - {problem}"));
            }

            return checkOnly ? ExitCodes.Failure : ExitCodes.Success;
        }

        if (checkOnly)
        {
            env.Out.WriteLine("Configuration is valid.");
        }

        return ExitCodes.Success;
    }

    /// <summary>
    /// <c>config --json</c>: every variable (name, source, displayed value — secrets masked — and the
    /// name it was read from), the warnings and the problems; with <c>--check</c>, exit 1 when there are problems.
    /// </summary>
    private static int ExecuteJson(CommandEnvironment env, bool checkOnly)
    {
        var snapshot = env.InspectConfiguration();
        var masker = new LogMasker(env.Secrets);
        var text = CliOutput.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("dotenv_file", snapshot.DotEnvPath);
            w.WriteBoolean("valid", snapshot.Problems.Count == 0);
            w.WriteStartArray("variables");
            foreach (var variable in snapshot.Variables)
            {
                w.WriteStartObject();
                w.WriteString("name", variable.Spec.Name);
                w.WriteString("source", variable.SourceLabel);
                w.WriteString("value", variable.Display);
                w.WriteString("read_as", variable.FromName ?? variable.Spec.Name);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("warnings");
            snapshot.Warnings.ToList().ForEach(w.WriteStringValue);
            w.WriteEndArray();
            w.WriteStartArray("problems");
            snapshot.Problems.ToList().ForEach(w.WriteStringValue);
            w.WriteEndArray();
            w.WriteEndObject();
        });
        // A secret pasted into the wrong variable is still a secret: everything printed is masked.
        env.Out.WriteLine(masker.Apply(text));
        return checkOnly && snapshot.Problems.Count > 0 ? ExitCodes.Failure : ExitCodes.Success;
    }

    private static void Print(TextWriter output, ConfigurationSnapshot snapshot)
    {
        output.WriteLine(snapshot.DotEnvPath is null ? "No .env file read (environment and defaults only)." : $".env file: {snapshot.DotEnvPath}");
        var table = new CliTable(new("VARIABLE"), new("SOURCE"), new("VALUE"));
        foreach (var variable in snapshot.Variables)
        {
            var via = variable.FromName is not null && variable.FromName != variable.Spec.Name ? $" (as {variable.FromName})" : string.Empty;
            table.Add(variable.Spec.Name, variable.SourceLabel, variable.Display + via);
        }

        table.Write(output);
    }
}
