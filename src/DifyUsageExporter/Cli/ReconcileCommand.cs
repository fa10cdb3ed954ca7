using System.CommandLine;
using System.Globalization;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Cli;

/// <summary>
/// <c>reconcile --from D --to D [--json]</c>: compares the ledger, per app and day, with Dify's own
/// statistics and prints the table (or, with <c>--json</c>, exactly one JSON document on stdout;
/// logs go to stderr). Exit 0 when every difference is explained, 1 otherwise. Reads only: it
/// writes the ledger nothing, and keeps the result for /health.
/// </summary>
public static class ReconcileCommand
{
    public static Command Create(CommandEnvironment env)
    {
        var from = new Option<string>("--from") { Description = "First day (YYYY-MM-DD), in the Dify account's time zone (the days of Dify's statistics).", Required = true };
        var to = new Option<string>("--to") { Description = "Last day (YYYY-MM-DD, inclusive); default: --from." };
        var json = CliOutput.JsonOption("Print one JSON document instead of a table.");
        var command = new Command("reconcile", "Compare the ledger per app and day with Dify's own statistics; exit 1 on an unexplained difference.");
        foreach (var option in new Option[] { from, to, json })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, ct) =>
        {
            var first = CliArguments.ParseDay(parse.GetValue(from), "--from");
            var last = parse.GetValue(to) is { } t ? CliArguments.ParseDay(t, "--to") : first;
            if (last < first)
            {
                throw new CliException($"--to {Iso.Day(last)} is before --from {Iso.Day(first)}.", ExitCodes.Usage);
            }

            return RunAsync(env, first, last, parse.GetValue(json), ct);
        });
        return command;
    }

    /// <summary>Runs the command; <paramref name="handler"/> lets tests point the Dify client at a fake.</summary>
    public static async Task<int> RunAsync(CommandEnvironment env, DateOnly from, DateOnly to, bool json, CancellationToken cancellationToken, HttpMessageHandler? handler = null)
    {
        var settings = env.LoadSettings();
        using var loggerFactory = env.CreateLoggerFactory(settings, env.Error);
        if (!DifySources.ConsoleConfigured(settings))
        {
            throw new CliException("reconcile compares the ledger with the statistics of Dify's console API: with DIFY_SOURCE=database set DIFY_API_BASE_URL and DIFY_EMAIL/DIFY_PASSWORD (or DIFY_API_TOKEN) too (docs/database-source.md).");
        }

        using var store = CommandStore.Open(env, settings);
        using var client = new DifyConsoleClient(settings, env.Secrets, loggerFactory, env.Time, handler);
        ReconcileReport report;
        try
        {
            report = await new DifyReconciler(store, client, loggerFactory, env.Time).ReconcileAsync(from, to, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DifyAuthException or DifyApiException)
        {
            var (_, fix) = DifyDiagnostics.Diagnose(ex, settings);
            throw new CliException(env.Secrets.Mask($"{ex.Message}{Environment.NewLine}Fix: {fix}"));
        }

        if (json)
        {
            env.Out.WriteLine(env.Secrets.Mask(report.ToJson()));
        }
        else
        {
            env.Out.WriteLine(env.Secrets.Mask(string.Create(CultureInfo.InvariantCulture, $"Reconcile {Iso.Day(report.From)}..{Iso.Day(report.To)} (Dify's days in {report.TimeZone}): {report.Rows.Count} app-days, {report.UnexplainedRows.Count} unexplained ({report.UnexplainedTokens} tokens), {report.Errors} not readable")));
            CliOutput.WriteTable(env, Table(report));
            env.Out.WriteLine(report.Ok ? "OK: every difference is explained." : "NOT OK: some differences are unexplained or Dify's statistics could not be read (see above).");
        }

        return report.Ok ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>App × day: ours, Dify's, the difference, the status and the reason (app names cut at 30 characters).</summary>
    private static CliTable Table(ReconcileReport report)
    {
        var table = new CliTable(new("date"), new("app"), new("ours tokens", true), new("Dify tokens", true), new("difference", true), new("status"), new("reason"));
        foreach (var r in report.Rows.OrderBy(r => r.Date).ThenBy(r => r.AppName, StringComparer.Ordinal))
        {
            var name = r.AppName.Length > 30 ? r.AppName[..29] + "…" : r.AppName;
            table.Add(Iso.Day(r.Date), name, r.OurTokens.ToString(CultureInfo.InvariantCulture), r.DifyTokens?.ToString(CultureInfo.InvariantCulture) ?? "-", r.Difference.ToString(CultureInfo.InvariantCulture), r.Status.ToString(), r.Reason);
        }

        return table;
    }
}
