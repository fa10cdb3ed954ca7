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
        var command = new Command("config", "Show the effective configuration with secrets masked and where each value came from.") { check };
        command.SetAction(parse => Execute(env, parse.GetValue(check)));
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

    private static void Print(TextWriter output, ConfigurationSnapshot snapshot)
    {
        output.WriteLine(snapshot.DotEnvPath is null ? "No .env file read (environment and defaults only)." : $".env file: {snapshot.DotEnvPath}");
        var width = VariableCatalog.All.Max(v => v.Name.Length) + 2;
        output.WriteLine($"{"VARIABLE".PadRight(width)}{"SOURCE",-9}VALUE");
        foreach (var variable in snapshot.Variables)
        {
            var via = variable.FromName is not null && variable.FromName != variable.Spec.Name ? $" (as {variable.FromName})" : string.Empty;
            output.WriteLine($"{variable.Spec.Name.PadRight(width)}{variable.SourceLabel,-9}{variable.Display}{via}");
        }
    }
}
