using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Hosting;

/// <summary>The last resort for a failure nothing else caught: one JSON error line (secrets masked), exit 1.</summary>
public static class FatalError
{
    /// <summary>Writes the error line to <paramref name="writer"/> at level error.</summary>
    public static void Report(CommandEnvironment env, TextWriter writer, object exception)
    {
        ArgumentNullException.ThrowIfNull(env);
        using var loggers = env.CreateLoggerFactory(new ExporterSettings(), writer);
        var logger = loggers.CreateLogger("DifyUsageExporter.Program");
        var ex = exception as Exception ?? new InvalidOperationException(Convert.ToString(exception, System.Globalization.CultureInfo.InvariantCulture));
        HostingLog.Fatal(logger, ex.GetType().Name, ex.Message, ex);
        writer.Flush();
    }

    /// <summary>Reports on stdout (the daemon's log stream) and ends the process with exit code 1.</summary>
    public static void ReportAndExit(CommandEnvironment env, object exception)
    {
        ArgumentNullException.ThrowIfNull(env);
        Report(env, env.Out, exception);
        Environment.Exit(ExitCodes.Failure);
    }
}
