using DifyUsageExporter.Configuration;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Dify.Database;

/// <summary>
/// <c>DIFY_SOURCE=database</c>: extracts usage straight from Dify's PostgreSQL with the console source's
/// semantics (docs/usage-semantics.md §1–2, docs/database-source.md): the same events, event ids, source ids,
/// users, days, watermarks and per-day completeness, so switching source never double counts. Two streamed
/// queries per extraction (messages, workflow runs with their node rows); memory does not grow with the window.
/// </summary>
public sealed partial class DatabaseUsageSource : IUsageSource, IDisposable
{
    private readonly ExporterSettings settings;
    private readonly ILedgerWriter store;
    private readonly DifyDatabase database;
    private readonly ILogger logger;
    private readonly TimeProvider time;

    public DatabaseUsageSource(ExporterSettings settings, ILedgerWriter store, ILoggerFactory loggerFactory, TimeProvider time)
    {
        this.settings = settings;
        this.store = store;
        this.time = time;
        database = new DifyDatabase(settings.DifyDatabaseConnectionString
            ?? throw new InvalidOperationException("DIFY_DATABASE_URL is required with DIFY_SOURCE=database."));
        logger = loggerFactory.CreateLogger<DatabaseUsageSource>();
    }

    /// <summary>The database (for <c>check --database</c> and tests).</summary>
    public DifyDatabase Database => database;

    /// <inheritdoc />
    public async Task<TimeZoneInfo> ResolveTimeZoneAsync(CancellationToken cancellationToken)
    {
        if (settings.UsageTimeZone is { } configured)
        {
            return configured;
        }

        var tenant = await database.ResolveTenantAsync(settings.DifyTenantId, cancellationToken).ConfigureAwait(false);
        return await OwnerZoneAsync(tenant, cancellationToken).ConfigureAwait(false) ?? TimeZoneInfo.Utc;
    }

    private async Task<TimeZoneInfo?> OwnerZoneAsync(DifyTenant tenant, CancellationToken cancellationToken)
    {
        var name = await database.OwnerTimeZoneAsync(tenant.Id, cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        var zone = UsageTime.FindZone(name);
        if (zone is null)
        {
            DifyLog.UnknownZone(logger, name);
        }

        return zone;
    }

    /// <inheritdoc />
    public async Task<ExtractionReport> ExtractAsync(DateOnly from, DateOnly to, bool fullRead, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        // At every extraction: the tables and grants, the workspace, and that node executions really are in the database.
        var schema = await database.RequireSchemaAsync(cancellationToken).ConfigureAwait(false);
        var tenant = await database.ResolveTenantAsync(settings.DifyTenantId, cancellationToken).ConfigureAwait(false);
        await database.RequireDatabaseStorageAsync(tenant.Id, started, cancellationToken).ConfigureAwait(false);
        var zone = settings.UsageTimeZone ?? await OwnerZoneAsync(tenant, cancellationToken).ConfigureAwait(false) ?? TimeZoneInfo.Utc;
        var window = new UsageWindow(from, to, zone);

        var incremental = settings.WatermarkEnabled && !fullRead;
        var existing = (await store.ReadWatermarksAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(w => w.AppId, w => w.Watermark, StringComparer.Ordinal);
        var watermarks = incremental ? existing : new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var recorded = incremental
            ? await store.ReadDayExtractionsAsync(from, to, cancellationToken).ConfigureAwait(false)
            : new Dictionary<DateOnly, DayExtraction>();

        var (apps, unknown, badConfigs) = await ListTargetsAsync(tenant, schema.HasPipelines, cancellationToken).ConfigureAwait(false);
        foreach (var app in apps)
        {
            app.ReadFrom = DifyUsageSource.ReadStart(app.Info.Id, window, settings.DifySettle, watermarks, recorded);
            DifyLog.ReadFrom(logger, app.Info.Name, app.Info.Id, app.ReadFrom, window.Start);
        }

        await DifyUsageSource.MarkUnrecordedDaysAsync(store, window, apps.Select(a => a.Info.Id), started, cancellationToken).ConfigureAwait(false);
        var run = new DatabaseRun(window, apps, store);
        foreach (var (target, reason) in badConfigs)
        {
            // The model of every message of the app is unknown: its whole window is incomplete until the row is fixed.
            foreach (var day in window.Days())
            {
                run.Fail(target, UsageTime.StartOfDay(day, zone), reason);
            }
        }

        if (apps.Count > 0)
        {
            var readFrom = apps.Min(a => a.ReadFrom);
            await ReadMessagesAsync(run, tenant.Id, readFrom, cancellationToken).ConfigureAwait(false);
            await ReadRunsAsync(run, tenant.Id, readFrom, cancellationToken).ConfigureAwait(false);
            await run.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        // Advance only after everything is stored, never past (extraction start − settle) nor the window end.
        var next = started - settings.DifySettle;
        if (next > window.End)
        {
            next = window.End;
        }

        foreach (var app in apps.Where(a => !a.Failed))
        {
            if (!existing.TryGetValue(app.Info.Id, out var old) || next > old)
            {
                await store.SetWatermarkAsync(app.Info.Id, app.Info.Name, next, cancellationToken).ConfigureAwait(false);
            }
        }

        var failures = await DifyUsageSource.RecordDaysAsync(store, window, run.Failures, unknown, started, cancellationToken).ConfigureAwait(false);
        foreach (var z in run.ZeroUsage)
        {
            DifyLog.AgentZeroUsage(logger, z.AppName, z.AppId, z.UsageDate, z.Messages);
        }

        DifyLog.Extracted(logger, from, to, zone.Id, run.EventsStored, apps.Count, unknown.Count, failures.Count);
        var summary = $"database source {database.Describe}, workspace {tenant.Name}: {run.RowsRead} rows read";
        return new ExtractionReport(zone, from, to, run.EventsStored, apps.Count, unknown.Count, failures, summary)
        {
            UnknownModeApps = unknown,
            ZeroUsageDays = [.. run.ZeroUsage.OrderBy(z => z.UsageDate).ThenBy(z => z.AppName, StringComparer.Ordinal)],
        };
    }

    public void Dispose() => database.Dispose();
}
