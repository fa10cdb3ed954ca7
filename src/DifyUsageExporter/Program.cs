using DifyUsageExporter.Cli;
using DifyUsageExporter.Hosting;

namespace DifyUsageExporter;

internal static class Program
{
    public static int Main(string[] args)
    {
        var env = Composition.CreateProcessEnvironment();
        // An exception no code path caught (a background thread): one JSON error line, exit 1,
        // instead of the runtime's plain-text stack trace and abort.
        AppDomain.CurrentDomain.UnhandledException += (_, e) => FatalError.ReportAndExit(env, e.ExceptionObject);
        return CliApp.Run(args, env, Composition.CycleRunner);
    }
}
