using System.Globalization;
using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Dify.Database;

/// <summary>What <c>check --database</c> found, step by step; <see cref="Failure"/> is null when every step passed.</summary>
public sealed class DatabaseCheckResult
{
    public DifyDatabaseFailure? Failure { get; set; }

    public string? Problem { get; set; }

    public string? Fix { get; set; }

    public bool Ok => Failure is null;

    /// <summary>One line per step that ran: "connection: ...", "schema: ...", ...</summary>
    public List<(string Step, string Result)> Steps { get; } = [];
}

/// <summary>
/// <c>check --database</c>: connection (and PostgreSQL version), the tables and columns read, SELECT grants,
/// the workspace (DIFY_TENANT_ID), its time zone, and whether node executions are stored in the database.
/// Stops at the first failing step, with the problem and the fix; never prints the password.
/// </summary>
public static class DatabaseDiagnostics
{
    public static async Task<DatabaseCheckResult> CheckAsync(ExporterSettings settings, TimeProvider time, CancellationToken cancellationToken)
    {
        var result = new DatabaseCheckResult();
        if (settings.DifyDatabaseConnectionString is null)
        {
            result.Failure = DifyDatabaseFailure.Other;
            result.Problem = "DIFY_DATABASE_URL is not set.";
            result.Fix = "set DIFY_DATABASE_URL (or DIFY_DATABASE_URL_FILE) to Dify's PostgreSQL, e.g. postgres://exporter_ro:...@db:5432/dify (docs/database-source.md).";
            return result;
        }

        await using var database = new DifyDatabase(settings.DifyDatabaseConnectionString);
        try
        {
            var version = await database.ServerVersionAsync(cancellationToken).ConfigureAwait(false);
            result.Steps.Add(("connection", $"{database.Describe}, PostgreSQL {version}"));
            var schema = await database.CheckSchemaAsync(cancellationToken).ConfigureAwait(false);
            result.Steps.Add(("schema", schema.Missing.Count == 0
                ? $"{DifySchema.Tables.Count} tables, {DifySchema.Columns.Count(c => !c.Optional)} columns present" + (schema.HasPipelines ? "; knowledge pipelines: yes" : "; knowledge pipelines: no (" + string.Join(", ", schema.OptionalMissing) + " absent)")
                : "MISSING " + string.Join("; ", schema.Missing)));
            result.Steps.Add(("permissions", schema.NotGranted.Count == 0 ? "SELECT granted on every table read" : "NO SELECT on " + string.Join(", ", schema.NotGranted)));
            await database.RequireSchemaAsync(cancellationToken).ConfigureAwait(false);
            var tenant = await database.ResolveTenantAsync(settings.DifyTenantId, cancellationToken).ConfigureAwait(false);
            var zone = await database.OwnerTimeZoneAsync(tenant.Id, cancellationToken).ConfigureAwait(false);
            result.Steps.Add(("workspace", $"{tenant.Name} ({tenant.Id}){(settings.DifyTenantId is null ? " (the only one)" : string.Empty)}; owner's time zone {zone ?? "not set"}; usage days in {settings.UsageTimeZone?.Id ?? UsageZone(zone)}"));
            var storage = await database.CheckStorageAsync(tenant.Id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            result.Steps.Add(("storage", string.Create(CultureInfo.InvariantCulture, $"{storage.RunsWithNodes} of the {storage.RecentRuns} newest finished runs have node rows; {storage.MessagesWithRun} of {storage.RecentRunMessages} chatflow messages have their run")
                + (storage.ElsewhereThanDatabase ? ": node executions are NOT in the database" : storage.RecentRuns == 0 && storage.RecentRunMessages == 0 ? " (no workflow runs yet: nothing to check)" : ": node executions are in the database")));
            await database.RequireDatabaseStorageAsync(tenant.Id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        catch (DifyDatabaseException ex)
        {
            result.Failure = ex.Failure;
            result.Problem = ex.Problem;
            result.Fix = ex.Fix;
        }

        return result;
    }

    private static string UsageZone(string? ownerZone) =>
        ownerZone is not null && Usage.UsageTime.FindZone(ownerZone) is { } zone ? zone.Id : "UTC";
}
