using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;

namespace DifyUsageExporter.Tests.Cli;

/// <summary>A CommandEnvironment with in-memory writers, fixed settings and captured logs.</summary>
public sealed class CliTestEnvironment
{
    public CliTestEnvironment(ExporterSettings settings, TimeProvider? time = null)
    {
        Env = new CommandEnvironment
        {
            Out = Out,
            Error = Error,
            Time = time ?? TimeProvider.System,
            LoadSettings = () => settings,
            CreateLoggerFactory = (_, _) => Logs,
            Secrets = Secrets,
        };
    }

    public StringWriter Out { get; } = new();
    public StringWriter Error { get; } = new();
    public FakeLogs Logs { get; } = new();
    public SecretRegistry Secrets { get; } = new();
    public CommandEnvironment Env { get; }
}
