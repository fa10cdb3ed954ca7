using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Cli;

/// <summary>
/// <c>verify [--quick] [--file BACKUP] [--repair] [--json]</c>: SQLite's integrity check plus the store's own
/// invariants (see <see cref="StoreVerifier"/>). Exit 0 when nothing is wrong, 1 naming each violation.
/// </summary>
public static class VerifyCommand
{
    public static Command Create(CommandEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var quick = new Option<bool>("--quick") { Description = "PRAGMA quick_check instead of the slower integrity_check (the daemon's daily form)." };
        var file = new Option<string?>("--file") { Description = "Verify a backup file instead of the live store (read-only)." };
        var json = CliOutput.JsonOption("Print the report as JSON.");
        var repair = new Option<bool>("--repair") { Description = "Mark days whose stored daily totals differ from their ledger events for re-aggregation; the next cycle re-sums them and sends any changed total." };
        var command = new Command("verify", "Check the state store: PRAGMA integrity_check and the store's invariants (delivered totals match the ledger or are pending; every ledger event has its day; every spool row has a valid record; stored daily totals match their events). Exit 0 ok, 1 with each violation named.");
        command.Options.Add(quick);
        command.Options.Add(file);
        command.Options.Add(json);
        command.Options.Add(repair);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var full = !parse.GetValue(quick);
            VerifyReport report;
            var postgres = false;
            if (parse.GetValue(file) is { } backup)
            {
                if (parse.GetValue(repair))
                {
                    await env.Error.WriteLineAsync("error: --repair changes the live store; it cannot be combined with --file (restore the backup first, then run `verify --repair`).").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }

                report = StoreVerifier.VerifyFile(backup, full);
            }
            else
            {
                var settings = env.LoadSettings();
                using var store = BackupCommand.OpenExisting(settings, env.Time);
                report = StoreVerifier.Verify(store, full);
                postgres = store.IsPostgres;
                if (parse.GetValue(repair) && report.StaleTotalDays.Count > 0)
                {
                    await store.MarkDaysForReaggregationAsync(report.StaleTotalDays, cancellationToken).ConfigureAwait(false);
                    var days = string.Join(", ", report.StaleTotalDays.Select(d => Iso.Day(d)));
                    await env.Out.WriteLineAsync($"repair: marked {days} for re-aggregation; the next cycle covering them re-sums their events and sends any total that changed.").ConfigureAwait(false);
                }
            }

            if (parse.GetValue(json))
            {
                await env.Out.WriteLineAsync(JsonSerializer.Serialize(report, VerifyJson.Default.VerifyReport)).ConfigureAwait(false);
            }
            else
            {
                await PrintAsync(env, report, postgres).ConfigureAwait(false);
            }

            return report.Ok ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    /// <param name="postgres">The store is PostgreSQL: it has no integrity pragma, so the summary names the invariants only (docs/state-postgres.md).</param>
    internal static async Task PrintAsync(CommandEnvironment env, VerifyReport report, bool postgres = false)
    {
        foreach (var violation in report.Violations)
        {
            await env.Out.WriteLineAsync("VIOLATION: " + violation).ConfigureAwait(false);
        }

        foreach (var note in report.Notes)
        {
            await env.Out.WriteLineAsync("note: " + note).ConfigureAwait(false);
        }

        var form = postgres ? "PostgreSQL, invariants" : report.Full ? "integrity_check" : "quick_check";
        var summary = report.Ok
            ? string.Create(CultureInfo.InvariantCulture, $"Verify passed ({form}): {report.Events} ledger events, {report.DeliveredKeys} delivered keys, {report.SpoolRows} spool rows.")
            : string.Create(CultureInfo.InvariantCulture, $"Verify FAILED ({form}): {report.Violations.Count} violation(s).");
        await env.Out.WriteLineAsync(summary).ConfigureAwait(false);
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(VerifyReport))]
internal sealed partial class VerifyJson : System.Text.Json.Serialization.JsonSerializerContext;
