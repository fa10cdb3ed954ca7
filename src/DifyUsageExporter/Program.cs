using DifyUsageExporter.Cli;
using DifyUsageExporter.Hosting;

namespace DifyUsageExporter;

internal static class Program
{
    public static int Main(string[] args) =>
        CliApp.Run(args, Composition.CreateProcessEnvironment(), Composition.CycleRunner);
}
