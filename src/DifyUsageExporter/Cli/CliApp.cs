using System.CommandLine;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Telemetry;

namespace DifyUsageExporter.Cli;

/// <summary>
/// The root command: <c>run</c> (also the default, with the seed's <c>--run-once</c>),
/// <c>config</c>, <c>health</c>, <c>--help</c>, <c>--version</c>. Parse errors exit 2; user
/// errors print their message (secrets masked) and exit with their code.
/// </summary>
public static class CliApp
{
    public static RootCommand BuildRoot(CommandEnvironment env, CycleRunnerFactory runnerFactory)
    {
        var runOnce = RunCommand.CreateOnceOption("--run-once");
        var root = new RootCommand("dify-usage-exporter: exports Dify LLM usage per day to API_Meter. Without a command it runs the daemon.")
        {
            runOnce,
            RunCommand.Create(env, runnerFactory),
            ConfigCommand.Create(env),
            HealthCommand.Create(env),
            CheckCommand.Create(env),
            UsageCommand.Create(env),
            ExportCommand.Create(env, Composition.UsageSource),
            SpoolCommand.Create(env),
            WatermarkCommand.Create(env),
            ReconcileCommand.Create(env),
            BackupCommand.Create(env),
            BackupCommand.CreateRestore(env),
            VerifyCommand.Create(env),
        };
        root.SetAction((parse, cancellationToken) => RunCommand.RunAsync(env, runnerFactory, parse.GetValue(runOnce)));
        return root;
    }

    public static int Run(string[] args, CommandEnvironment env, CycleRunnerFactory runnerFactory) =>
        Run(args, env, BuildRoot(env, runnerFactory));

    /// <summary>Parses and invokes <paramref name="args"/> against <paramref name="root"/>.</summary>
    public static int Run(string[] args, CommandEnvironment env, RootCommand root)
    {
        var masker = new LogMasker(env.Secrets);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                env.Error.WriteLine(masker.Apply(error.Message));
            }

            env.Error.WriteLine("Run 'dify-usage-exporter --help' for usage.");
            return ExitCodes.Usage;
        }

        try
        {
            var configuration = new InvocationConfiguration
            {
                Output = env.Out,
                Error = env.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            };
            return parse.InvokeAsync(configuration).GetAwaiter().GetResult();
        }
        catch (CliException ex)
        {
            env.Error.WriteLine(masker.Apply(ex.Message));
            return ex.ExitCode;
        }
        catch (ConfigurationException ex)
        {
            env.Error.WriteLine(masker.Apply(ex.Message));
            return ExitCodes.Failure;
        }
        catch (StoreException ex)
        {
            env.Error.WriteLine(masker.Apply(ex.Message));
            return ExitCodes.Failure;
        }
        catch (Exception ex)
        {
            // Last resort: a bug still exits 1 with one masked JSON error line, never a plain-text stack trace.
            FatalError.Report(env, env.Error, ex);
            return ExitCodes.Failure;
        }
    }
}
