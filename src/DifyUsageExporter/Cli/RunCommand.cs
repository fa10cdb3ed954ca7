using System.CommandLine;
using DifyUsageExporter.Hosting;

namespace DifyUsageExporter.Cli;

/// <summary><c>run [--once|--run-once]</c>: the daemon (scheduler + health server), or one cycle.</summary>
public static class RunCommand
{
    public static Option<bool> CreateOnceOption(string name, params string[] aliases) =>
        new(name, aliases) { Description = "Run one export cycle now and exit (0 ok, 1 failed or refused, 3 data left in the spool)." };

    public static Command Create(CommandEnvironment env) => Create(env, Composition.CycleRunner);

    public static Command Create(CommandEnvironment env, CycleRunnerFactory runnerFactory)
    {
        var once = CreateOnceOption("--once", "--run-once");
        var command = new Command("run", "Start the daemon: the cron scheduler and the health server (the default without a command).") { once };
        command.SetAction((parse, cancellationToken) => RunAsync(env, runnerFactory, parse.GetValue(once), cancellationToken));
        return command;
    }

    /// <summary>True when <paramref name="parse"/> starts the daemon (<c>run</c> or no command, without <c>--once</c>/<c>--run-once</c>).</summary>
    public static bool IsDaemon(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var command = parse.CommandResult.Command;
        if (command is not RootCommand && command.Name != "run")
        {
            return false;
        }

        // --help and --version act instead of the command; they are not the daemon.
        if (parse.Action is not null && parse.Action != command.Action)
        {
            return false;
        }

        return !command.Options.Where(o => o.Name is "--once" or "--run-once").OfType<Option<bool>>().Any(o => parse.GetValue(o));
    }

    /// <summary>
    /// Runs the daemon, whose generic host handles SIGTERM/SIGINT itself (one signal path), or one
    /// cycle, which <paramref name="stopSignal"/> (SIGINT/SIGTERM of a one-shot command, see
    /// <see cref="CliApp"/>) cancels at once: recorded as cancelled, exit 130.
    /// </summary>
    public static async Task<int> RunAsync(CommandEnvironment env, CycleRunnerFactory runnerFactory, bool once, CancellationToken stopSignal = default) =>
        once
            ? await new Daemon(env, runnerFactory).RunAsync(once: true, stopSignal)
            : await new Daemon(env, runnerFactory).RunAsync(once: false, CancellationToken.None);
}
