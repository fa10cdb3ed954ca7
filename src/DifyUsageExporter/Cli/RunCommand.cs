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
        command.SetAction((parse, cancellationToken) => RunAsync(env, runnerFactory, parse.GetValue(once)));
        return command;
    }

    /// <summary>
    /// Runs the daemon, whose generic host handles SIGTERM/SIGINT itself (one signal path), or one
    /// cycle with SIGTERM/SIGINT as the stop signal.
    /// </summary>
    public static async Task<int> RunAsync(CommandEnvironment env, CycleRunnerFactory runnerFactory, bool once)
    {
        if (!once)
        {
            return await new Daemon(env, runnerFactory).RunAsync(once: false, CancellationToken.None);
        }

        using var signal = ShutdownSignal.Listen();
        return await new Daemon(env, runnerFactory).RunAsync(once: true, signal.Token);
    }
}
