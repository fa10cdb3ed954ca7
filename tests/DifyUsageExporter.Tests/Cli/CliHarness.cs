using System.CommandLine;
using DifyUsageExporter.Cli;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Tests.Sync;

namespace DifyUsageExporter.Tests.Cli;

/// <summary>Runs delivery commands in-process against a <see cref="DeliveryHarness"/>.</summary>
internal static class CliHarness
{
    public sealed record Run(int ExitCode, string Out, string Error);

    public static async Task<Run> InvokeAsync(DeliveryHarness h, string input, bool canPrompt, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var env = new CommandEnvironment
        {
            Out = output,
            Error = error,
            In = new StringReader(input),
            CanPrompt = canPrompt,
            Time = h.Clock,
            LoadSettings = () => h.Settings,
            CreateLoggerFactory = (_, _) => LoggerFactory.Create(b => b.AddProvider(h.Logs.Provider)),
            Secrets = h.Secrets,
        };
        var root = new RootCommand("test");
        root.Subcommands.Add(ExportCommand.Create(env, (_, store, _, _) => new LedgerUsageSource(store, h.Zone, h.Clock) { }.WithEvents(h.Source)));
        root.Subcommands.Add(SpoolCommand.Create(env));
        root.Subcommands.Add(WatermarkCommand.Create(env));
        root.Subcommands.Add(BackupCommand.Create(env));
        root.Subcommands.Add(BackupCommand.CreateRestore(env));
        root.Subcommands.Add(VerifyCommand.Create(env));
        int code;
        try
        {
            code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = output, Error = error }, Xunit.TestContext.Current.CancellationToken);
        }
        catch (CliException ex)
        {
            await error.WriteLineAsync(ex.Message);
            code = ex.ExitCode;
        }
        catch (DifyUsageExporter.Storage.StoreException ex)
        {
            // As CliApp.Run: a store problem is a message and exit 1.
            await error.WriteLineAsync(ex.Message);
            code = ExitCodes.Failure;
        }

        return new Run(code, output.ToString(), error.ToString());
    }

    public static Task<Run> InvokeAsync(DeliveryHarness h, params string[] args) => InvokeAsync(h, string.Empty, false, args);

    private static LedgerUsageSource WithEvents(this LedgerUsageSource source, LedgerUsageSource truth)
    {
        source.Events.AddRange(truth.Events);
        source.FailingDays.UnionWith(truth.FailingDays);
        return source;
    }
}
