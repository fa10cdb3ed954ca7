using System.Globalization;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Telemetry;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Sync;

/// <summary>
/// Compares the ledger, per app and day, with Dify's own statistics (usage-semantics.md §5): message
/// <c>statistics/token-costs</c> for chat, agent-chat, completion and advanced-chat apps,
/// <c>workflow/statistics/token-costs</c> for workflow apps (<c>app-run</c> runs only), the agent
/// <c>statistics/summary</c> for agent apps (production = <c>source=webapp</c> − <c>source=debugger</c>).
/// Days are Dify's: local dates in the account time zone. One request per app per window (two per
/// agent app); knowledge pipelines have no Dify statistics and are listed as unchecked.
/// </summary>
public sealed class DifyReconciler(StateStore store, DifyConsoleClient client, ILoggerFactory loggers, TimeProvider time)
{
    private readonly ILogger logger = loggers.CreateLogger<DifyReconciler>();

    private sealed record Target(string Id, string Name, string Mode, string? AgentId);

    /// <summary>An app's daily statistics, or the reason they could not be read.</summary>
    private readonly record struct StatisticsOrError(Dictionary<DateOnly, (long Tokens, decimal? Cost)>? Rows, string? Error);

    private sealed class Ours
    {
        public string Name = string.Empty;
        public string Mode = string.Empty;
        public long Tokens;
        public decimal Cost;
        public long TriggerTokens;
        public long AccountTokens;
    }

    /// <summary>Reconciles days <paramref name="from"/>..<paramref name="to"/>, logs unexplained differences, keeps the result for /health and the gauge.</summary>
    public async Task<ReconcileReport> ReconcileAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var profile = await client.GetProfileAsync(cancellationToken).ConfigureAwait(false);
        // Dify buckets its statistics by local date in the account's time zone.
        var zone = (string.IsNullOrWhiteSpace(profile.Timezone) ? null : UsageTime.FindZone(profile.Timezone)) ?? TimeZoneInfo.Utc;
        var start = Day(from) + " 00:00";
        var end = Day(to.AddDays(1)) + " 00:00";
        var targets = await TargetsAsync(cancellationToken).ConfigureAwait(false);
        // One statistics request per app, all in flight at once (the client's concurrency limit
        // bounds them) while the ledger is read: one after another they cost a round trip per app
        // at the end of every cycle that reconciles (benchmarks/history.md, target 2).
        var statistics = targets
            .Select(t => t.Mode == DifyUsageSource.PipelineMode ? Task.FromResult(new StatisticsOrError(null, null)) : TryDifyStatisticsAsync(t, start, end, cancellationToken))
            .ToList();
        var ours = await LedgerAsync(from, to, zone, cancellationToken).ConfigureAwait(false);
        var extracted = await store.ReadDayExtractionsAsync(from.AddDays(-1), to.AddDays(1), cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(statistics).ConfigureAwait(false);

        var rows = new List<ReconcileRow>();
        foreach (var (target, fetched) in targets.Zip(statistics))
        {
            if (target.Mode == DifyUsageSource.PipelineMode)
            {
                rows.AddRange(OursOf(ours, target.Id).Select(o => Row(target, o.Date, o.Value, null, null, ReconcileStatus.Unchecked, "Dify keeps no statistics for knowledge pipelines")));
                continue;
            }

            var (dify, error) = await fetched.ConfigureAwait(false);
            if (dify is null)
            {
                rows.Add(Row(target, from, null, null, null, ReconcileStatus.Error, "Dify's statistics could not be read: " + error));
                continue;
            }

            var dates = dify.Keys.Where(d => d >= from && d <= to).Union(OursOf(ours, target.Id).Select(o => o.Date)).Order();
            foreach (var date in dates)
            {
                ours.TryGetValue((target.Id, date), out var o);
                var (difyTokens, difyCost) = dify.GetValueOrDefault(date, (0, 0m));
                var (status, reason) = Judge(target.Mode, o, difyTokens, Incomplete(extracted, target.Id, date, zone));
                rows.Add(Row(target, date, o, difyTokens, difyCost, status, reason));
            }
        }

        var listed = targets.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var ((appId, date), o) in ours.Where(x => !listed.Contains(x.Key.AppId)).OrderBy(x => x.Key.Date))
        {
            rows.Add(new ReconcileRow(appId, o.Name, o.Mode, date, o.Tokens, o.Cost, null, null, ReconcileStatus.Unchecked, "not listed by Dify any more (deleted or archived app): no statistics to compare"));
        }

        var report = new ReconcileReport(time.GetUtcNow(), from, to, zone.Id, rows);
        foreach (var r in report.UnexplainedRows)
        {
            DifyLog.ReconcileUnexplained(logger, r.AppName, r.AppId, r.Date, r.OurTokens, r.DifyTokens ?? 0, r.Difference);
        }

        foreach (var r in rows.Where(r => r.Status == ReconcileStatus.Error))
        {
            DifyLog.ReconcileError(logger, r.AppName, r.AppId, r.Reason ?? string.Empty);
        }

        DifyLog.Reconciled(logger, from, to, rows.Count, report.UnexplainedRows.Count, report.UnexplainedTokens, report.Errors);
        ReconcileMetrics.SetUnexplainedTokens(report.UnexplainedTokens);
        await store.SaveReconcileAsync(report.ToJson(indented: false, maxRows: 20), cancellationToken).ConfigureAwait(false);
        return report;
    }

    /// <summary>Explains a difference by a documented rule, or not.</summary>
    private static (string Status, string? Reason) Judge(string mode, Ours? o, long difyTokens, bool incomplete)
    {
        var tokens = o?.Tokens ?? 0;
        var diff = tokens - difyTokens;
        if (diff == 0)
        {
            return (ReconcileStatus.Match, null);
        }

        if (incomplete)
        {
            return (ReconcileStatus.Explained, "the ledger's day is incomplete for this app (not delivered; re-read next cycle)");
        }

        if (mode == "workflow" && o is { TriggerTokens: > 0 } && diff == o.TriggerTokens)
        {
            return (ReconcileStatus.Explained, string.Create(CultureInfo.InvariantCulture, $"{o.TriggerTokens} tokens of trigger-started runs (webhook, schedule, plugin), which Dify's workflow statistics leave out (app-run only)"));
        }

        if (mode is "chat" or "agent-chat" or "completion" && o is not null && diff > 0 && diff <= o.AccountTokens)
        {
            return (ReconcileStatus.Explained, string.Create(CultureInfo.InvariantCulture, $"console-account messages ({o.AccountTokens} tokens) include Studio previews, which Dify's statistics leave out and the console API cannot tell from Explore"));
        }

        return (ReconcileStatus.Unexplained, diff < 0
            ? string.Create(CultureInfo.InvariantCulture, $"the ledger has {-diff} tokens less than Dify: usage Dify recorded was not extracted")
            : string.Create(CultureInfo.InvariantCulture, $"the ledger has {diff} tokens more than Dify, and no documented rule explains it"));
    }

    private static bool Incomplete(IReadOnlyDictionary<DateOnly, DayExtraction> extracted, string appId, DateOnly date, TimeZoneInfo accountZone)
    {
        // The ledger's days are usage-zone days; when that zone is not the account's, a Dify day overlaps two of them.
        IEnumerable<DateOnly> days = extracted.TryGetValue(date, out var same) && same.TimeZone == accountZone.Id ? [date] : [date.AddDays(-1), date, date.AddDays(1)];
        return days.Any(d => !extracted.TryGetValue(d, out var e) || !e.Complete && e.IncompleteApps.Contains(appId, StringComparer.Ordinal) || !e.Complete && e.IncompleteApps.Count == 0);
    }

    /// <summary>One app's statistics, or why they could not be read (an app's failure is a row, not the reconcile's end).</summary>
    private async Task<StatisticsOrError> TryDifyStatisticsAsync(Target target, string start, string end, CancellationToken cancellationToken)
    {
        try
        {
            return new(await DifyStatisticsAsync(target, start, end, cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception ex) when (ex is DifyApiException or System.Text.Json.JsonException && !cancellationToken.IsCancellationRequested)
        {
            return new(null, ex.Message);
        }
    }

    private async Task<Dictionary<DateOnly, (long Tokens, decimal? Cost)>> DifyStatisticsAsync(Target target, string start, string end, CancellationToken cancellationToken)
    {
        if (target.AgentId is { } agentId)
        {
            // The summary's webapp source includes Studio debugger messages; subtract them (observability_service.py).
            var webapp = client.GetAgentStatisticsAsync(agentId, "webapp", start, end, cancellationToken);
            var debuggerRows = client.GetAgentStatisticsAsync(agentId, "debugger", start, end, cancellationToken);
            await Task.WhenAll(webapp, debuggerRows).ConfigureAwait(false);
            var all = Rows(await webapp.ConfigureAwait(false));
            var debugger = Rows(await debuggerRows.ConfigureAwait(false));
            foreach (var (date, d) in debugger)
            {
                var a = all.GetValueOrDefault(date, (0, 0m));
                all[date] = (a.Tokens - d.Tokens, a.Cost - d.Cost);
            }

            return all;
        }

        var workflow = target.Mode == "workflow";
        return Rows(await client.GetTokenCostsAsync(target.Id, workflow, start, end, cancellationToken).ConfigureAwait(false));
    }

    private static Dictionary<DateOnly, (long Tokens, decimal? Cost)> Rows(IReadOnlyList<DifyStatisticsRow> rows)
    {
        var result = new Dictionary<DateOnly, (long Tokens, decimal? Cost)>();
        foreach (var row in rows)
        {
            if (Iso.TryParseDay(row.Date) is not { } date)
            {
                throw new DifyShapeException("statistics date", $"'{row.Date}' is not a date (YYYY-MM-DD)");
            }

            var tokens = DifyUsageMapper.ToLong(row.TokenCount) ?? throw new DifyShapeException($"statistics {row.Date} token_count", $"'{row.TokenCount.GetRawText()}' is not a token count");
            result[date] = (tokens, row.TotalPrice.ValueKind == System.Text.Json.JsonValueKind.Undefined ? null : DifyPrice.Parse(row.TotalPrice));
        }

        return result;
    }

    /// <summary>Apps with statistics (<c>/apps</c> of known modes), agent apps (<c>/agent</c>) and knowledge pipelines.</summary>
    private async Task<List<Target>> TargetsAsync(CancellationToken cancellationToken)
    {
        var targets = new List<Target>();
        await foreach (var app in client.ListAppsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (app.Id is not null && app.Mode is not null && app.Mode != "agent" && DifyUsageSource.KnownModes.Contains(app.Mode))
            {
                targets.Add(new Target(app.Id, app.Name ?? app.Id, app.Mode, null));
            }
        }

        foreach (var agent in await client.ListAgentAppsAsync(cancellationToken).ConfigureAwait(false) ?? [])
        {
            if (agent.AppId is not null && agent.Id is not null)
            {
                targets.Add(new Target(agent.AppId, agent.Name ?? agent.AppId, "agent", agent.Id));
            }
        }

        try
        {
            await foreach (var dataset in client.ListDatasetsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (dataset.RuntimeMode == "rag_pipeline" && !string.IsNullOrEmpty(dataset.PipelineId))
                {
                    targets.Add(new Target(dataset.PipelineId, dataset.Name ?? dataset.PipelineId, DifyUsageSource.PipelineMode, null));
                }
            }
        }
        catch (DifyApiException ex) when (ex.StatusCode == 404)
        {
            // No knowledge API: no pipelines.
        }

        return targets;
    }

    /// <summary>Ledger totals per app and account-zone day (events of the neighbouring usage days included, then filtered by their own instant).</summary>
    private async Task<Dictionary<(string AppId, DateOnly Date), Ours>> LedgerAsync(DateOnly from, DateOnly to, TimeZoneInfo zone, CancellationToken cancellationToken)
    {
        var result = new Dictionary<(string AppId, DateOnly Date), Ours>();
        await foreach (var e in store.ReadReconcileEventsAsync(from.AddDays(-1), to.AddDays(1), DifyUsageSource.TriggerSeparator, cancellationToken).ConfigureAwait(false))
        {
            var date = UsageTime.LocalDate(e.OccurredAt, zone);
            if (date < from || date > to)
            {
                continue;
            }

            if (!result.TryGetValue((e.AppId, date), out var o))
            {
                result[(e.AppId, date)] = o = new Ours { Name = e.AppName, Mode = e.AppMode };
            }

            o.Tokens += e.Tokens;
            o.Cost += e.Cost;
            o.TriggerTokens += e.Trigger ? e.Tokens : 0;
            o.AccountTokens += e.Account ? e.Tokens : 0;
        }

        return result;
    }

    private static IEnumerable<(DateOnly Date, Ours Value)> OursOf(Dictionary<(string AppId, DateOnly Date), Ours> ours, string appId) =>
        ours.Where(x => x.Key.AppId == appId).Select(x => (x.Key.Date, x.Value));

    private static ReconcileRow Row(Target t, DateOnly date, Ours? o, long? difyTokens, decimal? difyCost, string status, string? reason) =>
        new(t.Id, t.Name, t.Mode, date, o?.Tokens ?? 0, o?.Cost ?? 0m, difyTokens, difyCost, status, reason);

    private static string Day(DateOnly date) => Iso.Day(date);
}
