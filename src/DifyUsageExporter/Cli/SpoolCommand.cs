using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Cli;

/// <summary>
/// <c>spool list [--json]</c>, <c>spool resend --all | &lt;batch-id&gt;</c> (pending and dead batches; exit 0 when
/// all selected were delivered, 3 otherwise), <c>spool discard &lt;batch-id&gt; [--yes]</c>.
/// </summary>
public static class SpoolCommand
{
    public static Command Create(CommandEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var spool = new Command("spool", "Inspect and act on batches waiting for delivery (pending and dead letters).");
        spool.Subcommands.Add(List(env));
        spool.Subcommands.Add(Resend(env));
        spool.Subcommands.Add(Discard(env));
        return spool;
    }

    /// <summary>One spooled batch as listed; <paramref name="DeadKeys"/>: each dead letter's key with the error it got (API_Meter's own message for a rejection).</summary>
    public sealed record SpoolBatch(string Id, string Target, string Status, int Records, string FirstDay, string LastDay, int Attempts, int FailedCycles, string? NextAttemptAt, string? LastError, string CreatedAt, IReadOnlyList<SpoolKey> DeadKeys);

    /// <summary>A dead key and its last error.</summary>
    public sealed record SpoolKey(string Key, string? Error);

    /// <summary>At most this many dead keys per batch in the table (all of them with --json).</summary>
    private const int KeysShown = 20;

    internal static IReadOnlyList<SpoolBatch> Batches(IReadOnlyList<OutboxRow> rows) =>
        rows.GroupBy(r => r.BatchId).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new SpoolBatch(
            g.Key,
            g.First().Target,
            g.Any(r => r.Status == OutboxRow.Dead) ? OutboxRow.Dead : OutboxRow.Pending,
            g.Count(),
            StateStore.Format(g.Min(r => r.UsageDate)),
            StateStore.Format(g.Max(r => r.UsageDate)),
            g.Max(r => r.Attempts),
            g.Max(r => r.FailedCycles),
            g.Min(r => r.NextAttemptAt) is { } next ? StateStore.Format(next) : null,
            g.Select(r => r.LastError).FirstOrDefault(e => e is not null),
            StateStore.Format(g.Min(r => r.CreatedAt)),
            g.Where(r => r.Status == OutboxRow.Dead).Select(r => new SpoolKey(r.RecordKey, r.LastError)).ToList())).ToList();

    private static Command List(CommandEnvironment env)
    {
        var json = CliOutput.JsonOption();
        var command = new Command("list", "List spooled batches.");
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = env.LoadSettings();
            using var store = CommandStore.OpenForReading(env, settings);
            var batches = Batches(await store.ReadOutboxAsync(null, null, null, cancellationToken).ConfigureAwait(false));
            if (parse.GetValue(json))
            {
                await env.Out.WriteLineAsync(JsonSerializer.Serialize(batches.ToArray(), SpoolJson.Default.SpoolBatchArray)).ConfigureAwait(false);
                return ExitCodes.Success;
            }

            if (batches.Count == 0)
            {
                await env.Out.WriteLineAsync("The spool is empty.").ConfigureAwait(false);
                return ExitCodes.Success;
            }

            var table = new CliTable(new("BATCH"), new("TARGET"), new("STATUS"), new("RECORDS", true), new("DAYS"), new("ATTEMPTS", true), new("FAILED_CYCLES", true), new("LAST_ERROR"));
            foreach (var b in batches)
            {
                table.Add(b.Id, b.Target, b.Status, b.Records.ToString(CultureInfo.InvariantCulture), $"{b.FirstDay}..{b.LastDay}", b.Attempts.ToString(CultureInfo.InvariantCulture), b.FailedCycles.ToString(CultureInfo.InvariantCulture), b.LastError ?? "-");
                foreach (var key in b.DeadKeys.Take(KeysShown))
                {
                    table.Note($"    dead key {key.Key}: {key.Error ?? "-"}");
                }

                if (b.DeadKeys.Count > KeysShown)
                {
                    table.Note(string.Create(CultureInfo.InvariantCulture, $"    … {b.DeadKeys.Count - KeysShown} more dead keys (spool list --json shows all)"));
                }
            }

            CliOutput.WriteTable(env, table);
            var dead = batches.Sum(b => b.DeadKeys.Count);
            if (dead > 0)
            {
                await env.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{dead} dead letters: they are not sent again until their totals change. Fix the cause, then `spool resend <batch>`; or `spool discard <batch>` to drop them (see docs/delivery.md).")).ConfigureAwait(false);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Resend(CommandEnvironment env)
    {
        var all = new Option<bool>("--all") { Description = "Resend every spooled batch, dead letters included." };
        var id = new Argument<string?>("batch-id") { Description = "The batch to resend (see spool list).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("resend", "Send spooled batches now. Exit 0 when all were delivered, 3 when some still wait.");
        command.Options.Add(all);
        command.Arguments.Add(id);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var batchId = parse.GetValue(id);
            var everything = parse.GetValue(all);
            if (everything == (batchId is not null))
            {
                throw new CliException("Give either --all or one batch id (see `spool list`).", ExitCodes.Usage);
            }

            var settings = env.LoadSettings();
            using var store = CommandStore.Open(env, settings);
            using var cycleLock = CommandLock.Acquire(store, "spool resend");
            if (batchId is not null && (await store.ReadOutboxAsync(null, batchId, null, cancellationToken).ConfigureAwait(false)).Count == 0)
            {
                throw new CliException($"No spooled batch '{batchId}' (see `spool list`).");
            }

            using var loggers = env.CreateLoggerFactory(settings, env.Error);
            using var delivery = new DeliveryService(settings, store, env.Time, loggers, env.Secrets);
            var pass = await delivery.SendPendingAsync(batchId is null ? null : [batchId], includeDead: true, countCycle: false, cancellationToken).ConfigureAwait(false);
            delivery.LogSummary();
            var left = (await store.ReadOutboxAsync(null, batchId, null, cancellationToken).ConfigureAwait(false)).Count;
            await env.Out.WriteLineAsync(env.Secrets.Mask(string.Create(CultureInfo.InvariantCulture,
                $"Delivered {pass.BatchesDelivered} batches ({pass.RecordsDelivered} records); {pass.BatchesFailed} failed; {left} records still spooled."))).ConfigureAwait(false);
            return left == 0 ? ExitCodes.Success : ExitCodes.Spooled;
        });
        return command;
    }

    private static Command Discard(CommandEnvironment env)
    {
        var yes = new Option<bool>("--yes") { Description = "Do not ask for confirmation." };
        var id = new Argument<string>("batch-id") { Description = "The batch to delete (see spool list)." };
        var command = new Command("discard", "Delete a spooled batch without sending it (asks for confirmation).");
        command.Options.Add(yes);
        command.Arguments.Add(id);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var batchId = parse.GetValue(id)!;
            var settings = env.LoadSettings();
            using var store = CommandStore.Open(env, settings);
            using var cycleLock = CommandLock.Acquire(store, "spool discard");
            var rows = await store.ReadOutboxAsync(null, batchId, null, cancellationToken).ConfigureAwait(false);
            if (rows.Count == 0)
            {
                throw new CliException($"No spooled batch '{batchId}' (see `spool list`).");
            }

            var question = string.Create(CultureInfo.InvariantCulture,
                $"Discard batch {batchId} ({rows.Count} records for {rows[0].Target}, days {StateStore.Format(rows.Min(r => r.UsageDate))}..{StateStore.Format(rows.Max(r => r.UsageDate))})? Its totals will not be delivered unless exported again.");
            if (!await Confirmation.AskAsync(env, question, parse.GetValue(yes)).ConfigureAwait(false))
            {
                await env.Out.WriteLineAsync("Not discarded.").ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            var removed = await store.DiscardBatchAsync(batchId, cancellationToken).ConfigureAwait(false);
            await env.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Discarded batch {batchId} ({removed} records).")).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SpoolCommand.SpoolBatch[]))]
internal sealed partial class SpoolJson : System.Text.Json.Serialization.JsonSerializerContext;
