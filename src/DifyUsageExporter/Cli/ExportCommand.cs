using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Cli;

/// <summary>
/// <c>export --from YYYY-MM-DD --to YYYY-MM-DD [--dry-run] [--force] [--format jsonl|csv --output FILE [--rows keys|events]]</c>:
/// extract the days (full re-read), aggregate, deliver through the spool. <c>--dry-run</c> prints the exact
/// request bodies to stdout and sends nothing. <c>--format</c> also writes the per-key (default) or
/// per-event rows of the days to FILE for audits. Exit 0 delivered, 3 something waits in the spool, 1 failure.
/// </summary>
public static class ExportCommand
{
    public static Command Create(CommandEnvironment env, UsageSourceFactory createSource)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(createSource);
        var from = new Option<string>("--from") { Description = "First usage day (YYYY-MM-DD, usage time zone).", Required = true };
        var to = new Option<string>("--to") { Description = "Last usage day (YYYY-MM-DD, inclusive).", Required = true };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the exact request bodies instead of sending; nothing is spooled." };
        var force = new Option<bool>("--force") { Description = "Resend every key of the days, changed or not." };
        var format = new Option<string?>("--format") { Description = "Also write rows for audits: jsonl or csv (needs --output)." };
        format.AcceptOnlyFromAmong("jsonl", "csv");
        var output = new Option<string?>("--output") { Description = "File for --format." };
        var rows = new Option<string>("--rows") { Description = "keys (daily API_Meter totals, default) or events (ledger rows).", DefaultValueFactory = _ => "keys" };
        rows.AcceptOnlyFromAmong("keys", "events");

        var command = new Command("export", "Extract, aggregate and deliver usage days to API_Meter.");
        foreach (var option in new Option[] { from, to, dryRun, force, format, output, rows })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var first = CliArguments.ParseDay(parse.GetValue(from)!, "--from");
            var last = CliArguments.ParseDay(parse.GetValue(to)!, "--to");
            if (first > last)
            {
                throw new CliException($"--from {Iso.Day(first)} is after --to {Iso.Day(last)}.", ExitCodes.Usage);
            }

            var fileFormat = parse.GetValue(format);
            var file = parse.GetValue(output);
            if ((fileFormat is null) != (file is null))
            {
                throw new CliException("--format and --output go together (e.g. --format csv --output usage.csv).", ExitCodes.Usage);
            }

            if (file is not null)
            {
                // Before any extraction: a bad path must not cost a full re-read of Dify first.
                AuditFile.Validate(file);
            }

            var settings = env.LoadSettings();
            using var store = CommandStore.Open(env, settings);
            using var cycleLock = CommandLock.Acquire(store, "export");
            // Before logging in to Dify: the store must take the ledger (docs/operations.md, start-up checks).
            StoreProbe.Check(store);
            using var loggers = env.CreateLoggerFactory(settings, env.Error);
            using var delivery = new DeliveryService(settings, store, env.Time, loggers, env.Secrets);
            var source = createSource(settings, store, loggers, env);
            using var ownedSource = source as IDisposable;
            var cycle = new ExportCycle(settings, store, source, delivery, loggers, env.Time);
            var runId = "export-" + Guid.NewGuid().ToString("N")[..8];
            var result = await cycle.ExportAsync(
                new ExportOptions(first, last, parse.GetValue(force), parse.GetValue(dryRun), FullRead: true, DryRunOutput: env.Out, SummaryLine: true),
                runId,
                "export",
                cancellationToken).ConfigureAwait(false);

            if (fileFormat is not null && file is not null)
            {
                var written = parse.GetValue(rows) == "events"
                    ? await AuditFile.WriteEventsAsync(file, fileFormat, store.ReadEventsAsync(first, last, cancellationToken), cancellationToken).ConfigureAwait(false)
                    : await AuditFile.WriteKeysAsync(file, fileFormat, result.Totals, cancellationToken).ConfigureAwait(false);
                await env.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Wrote {written} rows to {file}.")).ConfigureAwait(false);
            }

            await env.Error.WriteLineAsync(env.Secrets.Mask($"{result.Outcome}: {result.Summary}")).ConfigureAwait(false);
            return result.Outcome switch
            {
                CycleOutcome.Success => ExitCodes.Success,
                CycleOutcome.Spooled => ExitCodes.Spooled,
                _ => ExitCodes.Failure,
            };
        });
        return command;
    }

}

/// <summary>JSON Lines and CSV audit files of daily keys or ledger events.</summary>
internal static class AuditFile
{
    private static readonly string[] KeyColumns = ["usage_date", "provider", "model", "input_tokens", "output_tokens", "total_tokens", "request_count", "cost_actual", "currency", "source_event_id"];
    private static readonly string[] EventColumns = ["event_id", "source_id", "app_id", "app_name", "app_mode", "user_id", "user_type", "occurred_at", "usage_date", "provider", "model", "input_tokens", "output_tokens", "cost", "currency"];

    /// <summary>Throws a usage error unless <paramref name="path"/> can be written as a file: not a directory, in an existing writable directory.</summary>
    public static void Validate(string path)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new CliException($"--output {full} is a directory; give a file path, e.g. --output {Path.Combine(full, "usage.csv")}.", ExitCodes.Usage);
        }

        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
        {
            throw new CliException($"--output {full}: the directory {directory} does not exist. Create it first (`mkdir -p {directory}`) or choose another path.", ExitCodes.Usage);
        }

        if (DataDirectory.TryProbe(directory) is { } failure)
        {
            throw new CliException($"--output {full}: the directory {directory} is not writable ({failure.Message.TrimEnd('.')}). Choose a writable directory.", ExitCodes.Usage);
        }

        try
        {
            // An existing file is replaced later; opening it for writing now (without truncating) proves that will work.
            if (File.Exists(full))
            {
                using var probe = new FileStream(full, FileMode.Open, FileAccess.Write);
            }
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new CliException($"--output {full} exists and cannot be overwritten ({ex.Message.TrimEnd('.')}).", ExitCodes.Usage);
        }
    }

    public static async Task<int> WriteKeysAsync(string path, string format, IReadOnlyList<DailyTotal> totals, CancellationToken cancellationToken)
    {
        // An audit file holds usage per model and user: 0600 like the state store.
        await using var writer = new StreamWriter(PrivateFiles.OpenForWriting(path), new UTF8Encoding(false));
        if (format == "csv")
        {
            await writer.WriteLineAsync(string.Join(",", KeyColumns)).ConfigureAwait(false);
        }

        foreach (var t in totals)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (format == "csv")
            {
                string[] values =
                [
                    Day(t.Key.UsageDate), t.Key.Provider, t.Key.Model, Num(t.InputTokens), Num(t.OutputTokens), Num(t.TotalTokens), Num(t.RequestCount),
                    ApiMeterPayload.FormatCost(t.Cost), t.Currency, ApiMeterPayload.SourceEventId(t.Key.UsageDate, t.Key.Provider, t.Key.Model),
                ];
                await writer.WriteLineAsync(string.Join(",", values.Select(Csv))).ConfigureAwait(false);
            }
            else
            {
                await writer.WriteLineAsync(ApiMeterPayload.RecordJson(t)).ConfigureAwait(false);
            }
        }

        return totals.Count;
    }

    public static async Task<int> WriteEventsAsync(string path, string format, IAsyncEnumerable<UsageEvent> events, CancellationToken cancellationToken)
    {
        // An audit file holds usage per model and user: 0600 like the state store.
        await using var writer = new StreamWriter(PrivateFiles.OpenForWriting(path), new UTF8Encoding(false));
        if (format == "csv")
        {
            await writer.WriteLineAsync(string.Join(",", EventColumns)).ConfigureAwait(false);
        }

        var count = 0;
        await foreach (var e in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            string[] values =
            [
                e.EventId, e.SourceId, e.AppId, e.AppName, e.AppMode, e.UserId, e.UserType,
                Iso.Instant(e.OccurredAt), Day(e.UsageDate),
                e.Provider, e.Model, Num(e.InputTokens), Num(e.OutputTokens), e.Cost.ToString(CultureInfo.InvariantCulture), e.Currency,
            ];
            if (format == "csv")
            {
                await writer.WriteLineAsync(string.Join(",", values.Select(Csv))).ConfigureAwait(false);
            }
            else
            {
                var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                using (var w = new Utf8JsonWriter(buffer))
                {
                    w.WriteStartObject();
                    for (var i = 0; i < EventColumns.Length; i++)
                    {
                        if (EventColumns[i] is "input_tokens" or "output_tokens" or "cost")
                        {
                            w.WritePropertyName(EventColumns[i]);
                            w.WriteRawValue(values[i], skipInputValidation: true);
                        }
                        else
                        {
                            w.WriteString(EventColumns[i], values[i]);
                        }
                    }

                    w.WriteEndObject();
                }

                await writer.WriteLineAsync(Encoding.UTF8.GetString(buffer.WrittenSpan)).ConfigureAwait(false);
            }

            count++;
        }

        return count;
    }

    private static string Day(DateOnly d) => Iso.Day(d);

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Csv(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
