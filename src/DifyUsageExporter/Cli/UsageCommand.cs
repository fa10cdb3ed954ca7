using System.CommandLine;
using System.Globalization;
using System.Text.Json;
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
public static class UsageCommand
{
    public static Command Create(CommandEnvironment env)
    {
        var from = new Option<string>("--from") { Description = "First usage day (YYYY-MM-DD), in the usage time zone.", Required = true };
        var to = new Option<string>("--to") { Description = "Last usage day (YYYY-MM-DD, inclusive); default: --from." };
        var by = new Option<string?>("--by") { Description = "Break each day down by app, model or user." };
        by.AcceptOnlyFromAmong("app", "model", "user");
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
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
            env.Out.WriteLine(env.Secrets.Mask(ToJson(rows, request, zone, incompleteSet)));
        }
        else
        {
            PrintTable(env.Out, rows, request, zone, incompleteSet);
        }

        return incompleteSet.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>One output row: a day (and group) with its totals.</summary>
    public sealed record UsageRow(DateOnly Day, string? Group, long Requests, long InputTokens, long OutputTokens, decimal Cost, string Currency)
    {
        public long TotalTokens => InputTokens + OutputTokens;
    }

    /// <summary>Streams the ledger and sums per (day, group, currency); memory grows with groups, not events.</summary>
    public static async Task<IReadOnlyList<UsageRow>> AggregateAsync(StateStore store, UsageRequest request, CancellationToken cancellationToken)
    {
        var totals = new Dictionary<(DateOnly, string?, string), (long N, long In, long Out, decimal Cost)>();
        await foreach (var e in store.ReadEventsAsync(request.From, request.To, cancellationToken).ConfigureAwait(false))
        {
            string? group = request.By switch
            {
                "app" => $"{e.AppName} ({e.AppId})",
                "model" => $"{ProviderModelNormalizer.NormalizeProvider(e.Provider)}/{ProviderModelNormalizer.NormalizeModel(e.Model)}",
                "user" => $"{e.UserType}:{e.UserId}",
                _ => null,
            };
            var key = (e.UsageDate, group, e.Currency);
            var t = totals.GetValueOrDefault(key);
            totals[key] = (t.N + 1, t.In + e.InputTokens, t.Out + e.OutputTokens, t.Cost + e.Cost);
        }

        return totals
            .Select(kv => new UsageRow(kv.Key.Item1, kv.Key.Item2, kv.Value.N, kv.Value.In, kv.Value.Out, kv.Value.Cost, kv.Key.Item3))
            .OrderBy(r => r.Day).ThenBy(r => r.Group, StringComparer.Ordinal).ThenBy(r => r.Currency, StringComparer.Ordinal)
            .ToList();
    }

    private static string Money(decimal cost) =>
        Math.Round(cost, 7, MidpointRounding.AwayFromZero).ToString("0.0000000", CultureInfo.InvariantCulture);

    private static void PrintTable(TextWriter output, IReadOnlyList<UsageRow> rows, UsageRequest request, string zone, HashSet<DateOnly> incomplete)
    {
        output.WriteLine($"Usage {Iso.Day(request.From)}..{Iso.Day(request.To)} (time zone {zone}){(request.LedgerOnly ? " from the ledger" : string.Empty)}");
        var header = request.By is null
            ? $"{"day",-10}  {"requests",9}  {"input",12}  {"output",12}  {"total",12}  {"cost",14}  cur"
            : $"{"day",-10}  {request.By,-40}  {"requests",9}  {"input",12}  {"output",12}  {"total",12}  {"cost",14}  cur";
        output.WriteLine(header);
        var days = Enumerable.Range(0, request.To.DayNumber - request.From.DayNumber + 1).Select(request.From.AddDays);
        foreach (var day in days)
        {
            var mark = incomplete.Contains(day) ? "  INCOMPLETE" : string.Empty;
            var dayRows = rows.Where(r => r.Day == day).ToList();
            if (dayRows.Count == 0)
            {
                output.WriteLine($"{Iso.Day(day)}  {"(no usage)"}{mark}");
                continue;
            }

            foreach (var r in dayRows)
            {
                output.WriteLine(request.By is null
                    ? $"{Iso.Day(r.Day)}  {r.Requests,9}  {r.InputTokens,12}  {r.OutputTokens,12}  {r.TotalTokens,12}  {Money(r.Cost),14}  {r.Currency}{mark}"
                    : $"{Iso.Day(r.Day)}  {r.Group,-40}  {r.Requests,9}  {r.InputTokens,12}  {r.OutputTokens,12}  {r.TotalTokens,12}  {Money(r.Cost),14}  {r.Currency}{mark}");
            }
        }
    }

    private static string ToJson(IReadOnlyList<UsageRow> rows, UsageRequest request, string zone, HashSet<DateOnly> incomplete)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("from", Iso.Day(request.From));
            w.WriteString("to", Iso.Day(request.To));
            w.WriteString("time_zone", zone);
            w.WriteString("by", request.By);
            w.WriteStartArray("incomplete_days");
            foreach (var day in incomplete.Order())
            {
                w.WriteStringValue(Iso.Day(day));
            }

            w.WriteEndArray();
            w.WriteStartArray("rows");
            foreach (var r in rows)
            {
                w.WriteStartObject();
                w.WriteString("usage_date", Iso.Day(r.Day));
                if (request.By is not null)
                {
                    w.WriteString(request.By, r.Group);
                }

                w.WriteNumber("request_count", r.Requests);
                w.WriteNumber("input_tokens", r.InputTokens);
                w.WriteNumber("output_tokens", r.OutputTokens);
                w.WriteNumber("total_tokens", r.TotalTokens);
                w.WriteNumber("cost", r.Cost);
                w.WriteString("currency", r.Currency);
                w.WriteBoolean("complete", !incomplete.Contains(r.Day));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
