using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;

namespace DifyUsageExporter.Hosting;

/// <summary>The composition root: the production <see cref="CommandEnvironment"/> and the export cycle factory.</summary>
public static class Composition
{
    /// <summary>The export cycle of this build: extract from Dify, deliver to API_Meter through the spool.</summary>
    public static CycleRunnerFactory CycleRunner { get; } =
        (settings, store, loggers, environment) => new DifyExportCycle(settings, store, loggers, environment.Time, environment.Secrets);

    /// <summary>The usage source of one-shot commands (export): the Dify extractor.</summary>
    public static UsageSourceFactory UsageSource { get; } =
        (settings, store, loggers, environment) => DifyUsageSource.Create(settings, store, loggers, environment.Time, environment.Secrets);

    /// <summary>The environment of the real process: console streams, system clock, process environment and ./.env.</summary>
    public static CommandEnvironment CreateProcessEnvironment() =>
        CreateEnvironment(SettingsLoader.ProcessEnvironment(), Directory.GetCurrentDirectory(), Console.Out, Console.Error, TimeProvider.System, Console.In, !Console.IsInputRedirected);

    /// <summary>An environment over the given variables and working directory (tests use it with in-memory writers).</summary>
    public static CommandEnvironment CreateEnvironment(
        IReadOnlyDictionary<string, string> variables,
        string workingDirectory,
        TextWriter output,
        TextWriter error,
        TimeProvider time,
        TextReader? input = null,
        bool canPrompt = false)
    {
        var secrets = new SecretRegistry();
        ConfigurationSnapshot Inspect() => SettingsLoader.Inspect(variables, workingDirectory, secrets);
        return new CommandEnvironment
        {
            Out = output,
            Error = error,
            In = input ?? TextReader.Null,
            CanPrompt = canPrompt,
            Time = time,
            Secrets = secrets,
            InspectConfiguration = Inspect,
            LoadSettings = () => Inspect().GetSettingsOrThrow(),
            CreateLoggerFactory = (settings, writer) => Logging.CreateFactory(settings.LogLevel, writer, secrets, time),
        };
    }
}
