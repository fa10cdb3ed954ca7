using DifyUsageExporter.Cli;
using DifyUsageExporter.Hosting;

namespace DifyUsageExporter.Tests.Support;

/// <summary>A CommandEnvironment over given variables with captured output.</summary>
public sealed class CapturedEnvironment
{
    public CapturedEnvironment(IReadOnlyDictionary<string, string> variables, string workingDirectory, TimeProvider? time = null)
    {
        Env = Composition.CreateEnvironment(variables, workingDirectory, Out, Error, time ?? TimeProvider.System);
    }

    public ConcurrentWriter Out { get; } = new();

    public ConcurrentWriter Error { get; } = new();

    public CommandEnvironment Env { get; }

    public int Run(params string[] args) => CliApp.Run(args, Env, Composition.CycleRunner);
}
