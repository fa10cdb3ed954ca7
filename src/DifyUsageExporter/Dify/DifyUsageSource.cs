using System.Globalization;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Dify;

/// <summary>
/// Extracts every billable invocation of a Dify workspace into the usage ledger
/// (usage-semantics.md §1–2): all apps, per mode the listing endpoints and node rules, events
/// streamed into the store per source as they arrive, per-day completeness and per-app
/// watermarks. One failing app does not stop the others; its days are recorded incomplete.
/// </summary>
public sealed partial class DifyUsageSource : IUsageSource, IDisposable
{
    /// <summary>Margin before the read start for Dify's server-side filters (§1).</summary>
    private static readonly TimeSpan FilterMargin = TimeSpan.FromHours(1);

    /// <summary>Margin after the window end for workflow-app-logs (older Dify writes the log when the run finishes).</summary>
    private static readonly TimeSpan LogEndMargin = TimeSpan.FromHours(24);

    /// <summary>When the account zone is unknown, filters are written in UTC and widened by the largest UTC offset.</summary>
    private static readonly TimeSpan UnknownZoneMargin = TimeSpan.FromHours(14);

    internal static readonly HashSet<string> KnownModes = new(StringComparer.Ordinal) { "chat", "agent-chat", "completion", "advanced-chat", "workflow", "agent" };

    private readonly ExporterSettings settings;
    private readonly ILedgerWriter store;
    private readonly DifyConsoleClient client;
    private readonly bool ownsClient;
    private readonly ILogger logger;
    private readonly TimeProvider time;

    /// <summary>Uses an existing client (shared with <c>check</c> or tests); the caller disposes it.</summary>
    public DifyUsageSource(ExporterSettings settings, ILedgerWriter store, DifyConsoleClient client, ILoggerFactory loggerFactory, TimeProvider time)
        : this(settings, store, client, false, loggerFactory, time)
    {
    }

    private DifyUsageSource(ExporterSettings settings, ILedgerWriter store, DifyConsoleClient client, bool ownsClient, ILoggerFactory loggerFactory, TimeProvider time)
    {
        this.settings = settings;
        this.store = store;
        this.client = client;
        // The state store remembers rejected credentials across cycles and restarts (never lock the account).
        client.LoginGuard ??= new DifyLoginGuard(store, time);
        this.ownsClient = ownsClient;
        this.time = time;
        logger = loggerFactory.CreateLogger<DifyUsageSource>();
    }

    /// <summary>Creates the source with its own <see cref="DifyConsoleClient"/> (disposed with the source).</summary>
    /// <param name="handler">Tests pass an HTTP handler; null = the TLS-configured Dify handler.</param>
    public static DifyUsageSource Create(ExporterSettings settings, ILedgerWriter store, ILoggerFactory loggerFactory, TimeProvider time, SecretRegistry secrets, HttpMessageHandler? handler = null) =>
        new(settings, store, new DifyConsoleClient(settings, secrets, loggerFactory, time, handler), true, loggerFactory, time);

    /// <inheritdoc />
    public void BeginCycle() => client.BeginCycle();

    /// <summary>The client (e.g. for <c>check</c>).</summary>
    public DifyConsoleClient Client => client;

    public void Dispose()
    {
        if (ownsClient)
        {
            client.Dispose();
        }
    }

    /// <summary>
    /// The account zone read by <see cref="ResolveTimeZoneAsync"/> and not yet used by an extraction:
    /// a cycle resolves the zone and then extracts, and the profile need not be read twice.
    /// </summary>
    private TimeZoneInfo? resolvedAccountZone;
    private DateTimeOffset? resolvedAccountZoneAt;

    /// <summary>How long a resolved account zone may stand in for a profile read (a cycle's resolve → extract gap).</summary>
    private static readonly TimeSpan ResolvedZoneLifetime = TimeSpan.FromMinutes(10);

    /// <inheritdoc />
    public async Task<TimeZoneInfo> ResolveTimeZoneAsync(CancellationToken cancellationToken)
    {
        if (settings.UsageTimeZone is { } configured)
        {
            return configured;
        }

        var zone = await AccountZoneAsync(cancellationToken).ConfigureAwait(false);
        lock (client)
        {
            (resolvedAccountZone, resolvedAccountZoneAt) = (zone, time.GetUtcNow());
        }

        return zone ?? TimeZoneInfo.Utc;
    }

    /// <summary>The zone <see cref="ResolveTimeZoneAsync"/> just read (consumed once), else a fresh profile read.</summary>
    private async Task<TimeZoneInfo?> AccountZoneForExtractionAsync(CancellationToken cancellationToken)
    {
        lock (client)
        {
            var at = resolvedAccountZoneAt;
            resolvedAccountZoneAt = null;
            if (at is { } readAt && time.GetUtcNow() - readAt < ResolvedZoneLifetime)
            {
                return resolvedAccountZone;
            }
        }

        return await AccountZoneAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The Dify account's time zone (profile); null when the profile names none or an unknown one.</summary>
    private async Task<TimeZoneInfo?> AccountZoneAsync(CancellationToken cancellationToken)
    {
        var profile = await client.GetProfileAsync(cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(profile.Timezone))
        {
            return null;
        }

        var zone = UsageTime.FindZone(profile.Timezone);
        if (zone is null)
        {
            DifyLog.UnknownZone(logger, profile.Timezone);
        }

        return zone;
    }

    /// <inheritdoc />
    public async Task<ExtractionReport> ExtractAsync(DateOnly from, DateOnly to, bool fullRead, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        client.Concurrency.ResetStatistics();
        TimeZoneInfo? accountZone;
        try
        {
            accountZone = await AccountZoneForExtractionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DifyApiException) when (settings.UsageTimeZone is not null)
        {
            // USAGE_TIMEZONE fixes the days; the account zone only shapes the conversation filter,
            // which then falls back to UTC with a margin wide enough for any zone.
            accountZone = null;
        }

        var zone = settings.UsageTimeZone ?? accountZone ?? TimeZoneInfo.Utc;
        var window = new UsageWindow(from, to, zone);
        var incremental = settings.WatermarkEnabled && !fullRead;
        var watermarks = incremental
            ? (await store.ReadWatermarksAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(w => w.AppId, w => w.Watermark, StringComparer.Ordinal)
            : new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var recorded = incremental
            ? await store.ReadDayExtractionsAsync(from, to, cancellationToken).ConfigureAwait(false)
            : new Dictionary<DateOnly, DayExtraction>();

        var apps = new List<DifyApp>();
        await foreach (var app in client.ListAppsAsync(cancellationToken).ConfigureAwait(false))
        {
            apps.Add(app);
        }

        var existingWatermarks = (await store.ReadWatermarksAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(w => w.AppId, w => w.Watermark, StringComparer.Ordinal);
        using var run = new ExtractionRun(window, accountZone, started, existingWatermarks);
        var skipped = 0;
        var unknown = new List<string>();
        var known = new List<DifyApp>();
        foreach (var app in apps)
        {
            if (app.Id is null)
            {
                continue;
            }

            if (app.Mode is not null && NoUsageModes.Contains(app.Mode))
            {
                continue;
            }

            if (app.Mode is null || !KnownModes.Contains(app.Mode))
            {
                skipped++;
                unknown.Add($"{app.Name ?? app.Id} ({app.Id}): {app.Mode ?? "(none)"}");
                DifyMetrics.SkippedApps.Add(1);
                DifyLog.UnknownMode(logger, app.Name ?? app.Id, app.Id, app.Mode ?? "(none)");
                continue;
            }

            known.Add(app);
        }

        known.AddRange(await CurrentTargetsAsync(known, run, unknown, cancellationToken).ConfigureAwait(false));
        skipped = unknown.Count;

        await MarkUnrecordedDaysAsync(store, window, known.Select(a => a.Id!), started, cancellationToken).ConfigureAwait(false);
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, settings.DifyFetchConcurrency), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(known, options, async (app, ct) =>
        {
            var readFrom = ReadStart(app.Id!, window, settings.DifySettle, watermarks, recorded);
            await ExtractAppAsync(run, app, readFrom, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);

        var failures = await RecordDaysAsync(store, window, run.Failures, unknown, started, cancellationToken).ConfigureAwait(false);

        var c = client.Concurrency.Snapshot();
        var concurrency = c.MinLimit == c.MaxLimit
            ? string.Create(CultureInfo.InvariantCulture, $"Dify concurrency {c.Limit} (ceiling {c.Ceiling}, peak {c.PeakInFlight} in flight)")
            : string.Create(CultureInfo.InvariantCulture, $"Dify concurrency {c.MinLimit}-{c.MaxLimit}, now {c.Limit} (ceiling {c.Ceiling}, peak {c.PeakInFlight} in flight, {c.Decreases} back-offs)");
        DifyLog.Extracted(logger, from, to, zone.Id, run.EventsStored, known.Count, skipped, failures.Count);
        return new ExtractionReport(zone, from, to, run.EventsStored, known.Count, skipped, failures, concurrency)
        {
            UnknownModeApps = unknown,
            ZeroUsageDays = [.. run.ZeroUsage.OrderBy(z => z.UsageDate).ThenBy(z => z.AppName, StringComparer.Ordinal)],
        };
    }
}
