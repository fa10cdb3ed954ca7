using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace DifyUsageExporter.Storage;

public sealed partial class StateStore
{
    private const string ReconcileKey = "state.reconcile.latest";
    private const string WholeReconcileKey = "state.reconcile.whole_window";
    private const string UnknownModesKey = "state.extraction.unknown_mode_apps";

    /// <summary>
    /// What reconcile sums per event of usage days <paramref name="from"/>..<paramref name="to"/>: only
    /// those columns, unordered (the full <see cref="ReadEventsAsync"/> sorted 100k events by id and built
    /// whole events, 2.3 s of a 4 s no-op cycle).
    /// </summary>
    /// <param name="triggerSeparator">Marks the source ids of trigger-started workflow runs.</param>
    public async IAsyncEnumerable<ReconcileEvent> ReadReconcileEventsAsync(DateOnly from, DateOnly to, string triggerSeparator, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT app_id, app_name, app_mode, occurred_at, input_tokens + output_tokens, cost,
                   {(IsPostgres ? "strpos(source_id, @trigger)" : "instr(source_id, @trigger)")} > 0, user_type = 'account'
            FROM usage_events WHERE usage_date >= @from AND usage_date <= @to
            """;
        command.AddWithValue("@from", Format(from));
        command.AddWithValue("@to", Format(to));
        command.AddWithValue("@trigger", triggerSeparator);
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new ReconcileEvent(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                ParseInstant(reader.GetString(3)),
                reader.GetInt64(4),
                decimal.Parse(reader.GetString(5), NumberStyles.Float, CultureInfo.InvariantCulture),
                reader.GetBoolean(6),
                reader.GetBoolean(7));
        }
    }

    /// <summary>Keeps the latest reconcile result (its JSON summary) so /health shows it after a restart too.</summary>
    public Task SaveReconcileAsync(string summaryJson, CancellationToken cancellationToken) =>
        WriteDeliveryStateAsync(ReconcileKey, summaryJson, cancellationToken);

    /// <summary>The latest reconcile summary, or null when none ran yet.</summary>
    public Task<string?> ReadReconcileAsync(CancellationToken cancellationToken) =>
        ReadDeliveryStateAsync(ReconcileKey, cancellationToken);

    /// <summary>Keeps when and over which window the last whole-window reconcile ran ("instant from to", see ReconcileScope).</summary>
    public Task SaveWholeReconcileAsync(string value, CancellationToken cancellationToken) =>
        WriteDeliveryStateAsync(WholeReconcileKey, value, cancellationToken);

    /// <summary>The last whole-window reconcile ("instant from to"), or null when none ran yet.</summary>
    public Task<string?> ReadWholeReconcileAsync(CancellationToken cancellationToken) =>
        ReadDeliveryStateAsync(WholeReconcileKey, cancellationToken);

    /// <summary>Keeps the apps the latest extraction skipped because their mode is unknown ("name (id): mode").</summary>
    public Task SaveUnknownModeAppsAsync(IReadOnlyList<string> apps, CancellationToken cancellationToken) =>
        WriteDeliveryStateAsync(UnknownModesKey, JsonSerializer.Serialize(apps.ToArray(), LedgerJson.Default.StringArray), cancellationToken);

    /// <summary>The apps the latest extraction skipped as unknown (empty when none or never extracted).</summary>
    public async Task<IReadOnlyList<string>> ReadUnknownModeAppsAsync(CancellationToken cancellationToken)
    {
        var json = await ReadDeliveryStateAsync(UnknownModesKey, cancellationToken).ConfigureAwait(false);
        return json is null ? [] : JsonSerializer.Deserialize(json, LedgerJson.Default.StringArray) ?? [];
    }
}

/// <summary>One ledger event as reconcile sees it: app, instant, tokens (input + output), cost, trigger-started run, console account.</summary>
public readonly record struct ReconcileEvent(string AppId, string AppName, string AppMode, DateTimeOffset OccurredAt, long Tokens, decimal Cost, bool Trigger, bool Account);
