using System.CommandLine;
using System.Globalization;
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
        root.SetAction((parse, cancellationToken) => RunCommand.RunAsync(env, runnerFactory, parse.GetValue(runOnce), cancellationToken));
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

        // One-shot commands stop on SIGINT/SIGTERM: their work is cancelled (what was stored stays,
        // nothing half-written), exit 130. The daemon's generic host handles the signals itself.
        using var signal = RunCommand.IsDaemon(parse) ? null : ShutdownSignal.Listen();
        try
        {
            var configuration = new InvocationConfiguration
            {
                Output = env.Out,
                Error = env.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            };
            if (signal is null)
            {
                return parse.InvokeAsync(configuration).GetAwaiter().GetResult();
            }

            var invocation = Task.Run(() => parse.InvokeAsync(configuration, signal.Token));
            // Waits for the command or the signal, whichever comes first; never throws itself.
            Task.WhenAny(invocation, Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, signal.Token)).GetAwaiter().GetResult();
            if (signal.Token.IsCancellationRequested)
            {
                return Cancelled(env, signal, invocation);
            }

            // Completed: its exit code, or its own exception for the handlers below.
            return invocation.GetAwaiter().GetResult();
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

    /// <summary>
    /// After a stop signal: waits (bounded) for the command to unwind its cancellation, says what
    /// happened, and returns 130. Whatever the command stored before stays (every write is a
    /// transaction; a batch counts as delivered only once API_Meter confirmed it).
    /// </summary>
    private static int Cancelled(CommandEnvironment env, ShutdownSignal signal, Task<int> invocation)
    {
        var unwound = Task.WhenAny(invocation, Task.Delay(UnwindLimit, TimeProvider.System, CancellationToken.None)).GetAwaiter().GetResult() == invocation;
        if (unwound && invocation.IsFaulted && invocation.Exception?.GetBaseException() is { } failure and not OperationCanceledException)
        {
            env.Error.WriteLine(new LogMasker(env.Secrets).Apply($"While stopping: {failure.Message}"));
        }

        env.Error.WriteLine(unwound
            ? $"Cancelled by {signal.Received ?? "a signal"}: what was stored stays; run the command again to continue."
            : string.Create(CultureInfo.InvariantCulture, $"Cancelled by {signal.Received ?? "a signal"}: the command did not stop within {UnwindLimit.TotalSeconds:0} s; exiting (stored data stays consistent)."));
        return ExitCodes.Cancelled;
    }

    private static TimeSpan UnwindLimit { get; } = TimeSpan.FromSeconds(10);
}
