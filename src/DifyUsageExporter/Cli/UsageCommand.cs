using System.CommandLine;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Cli;

/// <summary>
/// <c>usage --from D --to D [--by app|model|user] [--json] [--ledger] [--full]</c>: extracts the
/// days from Dify into the ledger (or, with --ledger, only reads the ledger) and prints per-day
/// totals. Delivers nothing. Exit 1 when a day is incomplete (some app could not be read).
/// </summary>
public static partial class UsageCommand
{
    public static Command Create(CommandEnvironment env)
    {
        var from = new Option<string>("--from") { Description = "First usage day (YYYY-MM-DD), in the usage time zone.", Required = true };
        var to = new Option<string>("--to") { Description = "Last usage day (YYYY-MM-DD, inclusive); default: --from." };
        var by = new Option<string?>("--by") { Description = "Break each day down by app, model or user." };
        by.AcceptOnlyFromAmong("app", "model", "user");
        var json = CliOutput.JsonOption();
        var ledger = new Option<bool>("--ledger") { Description = "Only read the local ledger; do not contact Dify." };
        var full = new Option<bool>("--full") { Description = "Ignore the per-app watermarks and re-read the whole window from Dify." };
        var command = new Command("usage", "Extract usage days from Dify (or read the ledger) and print per-day totals, delivering nothing.");
        foreach (var option in new Option[] { from, to, by, json, ledger, full })
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

            return RunAsync(env, new UsageRequest(first, last, parse.GetValue(by), parse.GetValue(json), parse.GetValue(ledger), parse.GetValue(full)), ct);
        });
        return command;
    }

    /// <summary>The parsed options of <c>usage</c>.</summary>
    public sealed record UsageRequest(DateOnly From, DateOnly To, string? By, bool Json, bool LedgerOnly, bool Full);


    /// <summary>Runs the command; <paramref name="handler"/> lets tests point the Dify client at a fake.</summary>
    public static async Task<int> RunAsync(CommandEnvironment env, UsageRequest request, CancellationToken cancellationToken, HttpMessageHandler? handler = null)
    {
        var settings = env.LoadSettings();
        using var loggerFactory = env.CreateLoggerFactory(settings, env.Error);
        // --ledger only reads (also on a read-only DATA_DIR); extraction writes the ledger and
        // watermarks: never interleave with a running cycle, and prove the store usable before logging in.
        using var store = request.LedgerOnly ? CommandStore.OpenForReading(env, settings) : CommandStore.Open(env, settings);
        using var cycleLock = request.LedgerOnly ? null : CommandLock.Acquire(store, "usage");
        if (!request.LedgerOnly)
        {
            StoreProbe.Check(store);
        }

        IReadOnlyList<DateOnly> incomplete;
        string zone;
        if (request.LedgerOnly)
        {
            var days = await store.ReadDayExtractionsAsync(request.From, request.To, cancellationToken).ConfigureAwait(false);
            incomplete = Enumerable.Range(0, request.To.DayNumber - request.From.DayNumber + 1).Select(request.From.AddDays)
                .Where(d => !days.TryGetValue(d, out var e) || !e.Complete).ToList();
            zone = days.Values.Select(d => d.TimeZone).FirstOrDefault() ?? "unknown";
        }
        else
        {
            using var source = DifySources.Create(settings, store, loggerFactory, env.Time, env.Secrets, handler);
            ExtractionReport report;
            try
            {
                report = await source.ExtractAsync(request.From, request.To, request.Full, cancellationToken).ConfigureAwait(false);
            }
            catch (Dify.Database.DifyDatabaseException ex)
            {
                throw new CliException(env.Secrets.Mask(ex.Message));
            }
            catch (Exception ex) when (ex is DifyAuthException or DifyApiException)
            {
                var (_, fix) = DifyDiagnostics.Diagnose(ex, settings);
                throw new CliException(env.Secrets.Mask($"{ex.Message}{Environment.NewLine}Fix: {fix}"));
            }

            incomplete = report.IncompleteDays();
            zone = report.TimeZone.Id;
            foreach (var failure in report.Failures.GroupBy(f => (f.AppId, f.AppName)))
            {
                env.Error.WriteLine(env.Secrets.Mask($"warning: app {failure.Key.AppName} ({failure.Key.AppId}) incomplete on {string.Join(", ", failure.Select(f => Iso.Day(f.UsageDate, "all days")).Distinct())}: {failure.First().Reason}"));
            }
        }

        var rows = await AggregateAsync(store, request, cancellationToken).ConfigureAwait(false);
        var incompleteSet = incomplete.ToHashSet();
        if (request.Json)
        {
            CliOutput.WriteJson(env, w => WriteJson(w, rows, request, zone, incompleteSet));
        }
        else
        {
            env.Out.WriteLine($"Usage {Iso.Day(request.From)}..{Iso.Day(request.To)} (time zone {zone}){(request.LedgerOnly ? " from the ledger" : string.Empty)}");
            CliOutput.WriteTable(env, Table(rows, request, incompleteSet));
        }

        return incompleteSet.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>One output row: a day (and group) with its totals.</summary>
    public sealed record UsageRow(DateOnly Day, string? Group, long Requests, long InputTokens, long OutputTokens, decimal Cost, string Currency)
    {
        public long TotalTokens => InputTokens + OutputTokens;
    }

    /// <summary>Streams the ledger and sums per (day, group, currency) with <see cref="UsageSums"/>; memory grows with groups, not events. The cost stays exact here (printed rounded, written exact in --json).</summary>
    public static async Task<IReadOnlyList<UsageRow>> AggregateAsync(StateStore store, UsageRequest request, CancellationToken cancellationToken)
    {
        var by = new UsageGrouping((e, n) => new UsageGroup(
            Day: e.UsageDate,
            Label: request.By switch
            {
                "app" => $"{e.AppName} ({e.AppId})",
                "model" => $"{n.Provider}/{n.Model}",
                "user" => $"{e.UserType}:{e.UserId}",
                _ => null,
            },
            Currency: e.Currency));
        var groups = (await UsageSums.GroupAsync(store.ReadEventsAsync(request.From, request.To, cancellationToken), [by], cancellationToken).ConfigureAwait(false))[0];
        return groups
            .Select(kv => new UsageRow(kv.Key.Day!.Value, kv.Key.Label, kv.Value.Requests, kv.Value.InputTokens, kv.Value.OutputTokens, kv.Value.Cost, kv.Key.Currency!))
            .OrderBy(r => r.Day).ThenBy(r => r.Group, StringComparer.Ordinal).ThenBy(r => r.Currency, StringComparer.Ordinal)
            .ToList();
    }
}
