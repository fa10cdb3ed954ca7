using System.Text.Json;

namespace DifyUsageExporter.Storage;

public sealed partial class StateStore
{
    private const string ReconcileKey = "state.reconcile.latest";
    private const string UnknownModesKey = "state.extraction.unknown_mode_apps";

    /// <summary>Keeps the latest reconcile result (its JSON summary) so /health shows it after a restart too.</summary>
    public Task SaveReconcileAsync(string summaryJson, CancellationToken cancellationToken) =>
        WriteDeliveryStateAsync(ReconcileKey, summaryJson, cancellationToken);

    /// <summary>The latest reconcile summary, or null when none ran yet.</summary>
    public Task<string?> ReadReconcileAsync(CancellationToken cancellationToken) =>
        ReadDeliveryStateAsync(ReconcileKey, cancellationToken);

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
