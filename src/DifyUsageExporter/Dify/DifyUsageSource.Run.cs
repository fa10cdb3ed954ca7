using System.Collections.Concurrent;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Dify;

/// <summary>Where each app's read starts (watermark minus the settle overlap, or the window start) and what one extraction run collects.</summary>
public sealed partial class DifyUsageSource
{
    /// <summary>
    /// Records each window day as complete exactly when no app failed on it (and the apps skipped for an
    /// unknown mode); returns the failures in report order. Shared by the console and database sources.
    /// </summary>
    internal static async Task<List<AppDayFailure>> RecordDaysAsync(ILedgerWriter store, UsageWindow window, IEnumerable<AppDayFailure> all, IReadOnlyList<string> unknown, DateTimeOffset started, CancellationToken cancellationToken)
    {
        var failures = all.OrderBy(f => f.UsageDate).ThenBy(f => f.AppName, StringComparer.Ordinal).ToList();
        var days = window.Days().Select(day =>
        {
            var incomplete = failures.Where(f => f.UsageDate == day).Select(f => f.AppId).Distinct().Order(StringComparer.Ordinal).ToList();
            return new DayExtraction(day, incomplete.Count == 0, incomplete, window.Zone.Id, started);
        }).ToList();
        await store.RecordDayExtractionsAsync(days, cancellationToken).ConfigureAwait(false);
        await store.SaveUnknownModeAppsAsync(unknown, cancellationToken).ConfigureAwait(false);
        Telemetry.ReconcileMetrics.SetUnknownModeApps(unknown.Count);
        return failures;
    }

    /// <summary>
    /// Before the first event of an extraction is stored: every window day without a completeness
    /// record gets one saying "incomplete for each app about to be read". A run stopped half-way
    /// (SIGINT/SIGTERM of a one-shot command, a kill) then leaves no ledger day of unknown
    /// completeness (`verify` would flag it), and the next run re-reads those days for every app
    /// (<see cref="ReadStart"/>). The run's own record (<see cref="RecordDaysAsync"/>) replaces it.
    /// Shared by the console and database sources.
    /// </summary>
    internal static async Task MarkUnrecordedDaysAsync(ILedgerWriter store, UsageWindow window, IEnumerable<string> appIds, DateTimeOffset started, CancellationToken cancellationToken)
    {
        var recorded = await store.ReadDayExtractionsAsync(window.From, window.To, cancellationToken).ConfigureAwait(false);
        var apps = appIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var days = window.Days().Where(d => !recorded.ContainsKey(d)).Select(d => new DayExtraction(d, false, apps, window.Zone.Id, started)).ToList();
        if (days.Count > 0)
        {
            await store.RecordDayExtractionsAsync(days, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Where an app's read starts. Incremental runs start at (watermark − DIFY_SETTLE_MINUTES)
    /// instead of the window start, but only when every window day before that instant (and the
    /// day containing it) is already recorded complete for this app in the same time zone.
    ///
    /// Why that keeps "complete" honest: a day is recorded complete when no app failed on it in
    /// the run that recorded it. An app's watermark W is set only after all of its events up to
    /// W are stored, and never past (run start − settle), so anything Dify adds or finishes later
    /// for that app has occurred_at ≥ W − settle and is re-read. A day before W − settle that was
    /// complete for the app therefore still is, and skipping it loses nothing. When the record is
    /// missing, incomplete for this app, or in another time zone (different day boundaries), the
    /// app re-reads the whole window. This run then records each window day as complete exactly
    /// when no app failed on it now, which, with the rule above, means every app's coverage of
    /// the day (old complete record + this run's read) is complete.
    /// </summary>
    internal static DateTimeOffset ReadStart(string appId, UsageWindow window, TimeSpan settle, Dictionary<string, DateTimeOffset> watermarks, IReadOnlyDictionary<DateOnly, DayExtraction> recorded)
    {
        if (!watermarks.TryGetValue(appId, out var watermark))
        {
            return window.Start;
        }

        var candidate = watermark - settle;
        if (candidate <= window.Start)
        {
            return window.Start;
        }

        if (candidate >= window.End)
        {
            candidate = window.End;
        }

        foreach (var day in window.Days())
        {
            if (UsageTime.StartOfDay(day, window.Zone) >= candidate)
            {
                break;
            }

            if (!recorded.TryGetValue(day, out var record)
                || record.TimeZone != window.Zone.Id
                || record.IncompleteApps.Contains(appId, StringComparer.Ordinal))
            {
                return window.Start;
            }
        }

        return candidate;
    }

    /// <summary>State shared by the apps of one extraction.</summary>
    private sealed class ExtractionRun(UsageWindow window, TimeZoneInfo? accountZone, DateTimeOffset started, IReadOnlyDictionary<string, DateTimeOffset> watermarks) : IDisposable
    {
        /// <summary>
        /// Ledger batches handed to the store and not yet written: one being written, one ready. On a
        /// large backfill the fetchers (up to DIFY_FETCH_CONCURRENCY per app, all apps at once) outrun
        /// the store's single writer; unbounded, each of them held a full batch while it waited for the
        /// write (127 batches and +130 MiB at 1M events, benchmarks/history.md), so memory grew with
        /// history. Bounded, reading waits for writing instead.
        /// </summary>
        private const int BatchesAhead = 2;

        private readonly SemaphoreSlim writeSlots = new(BatchesAhead, BatchesAhead);
        private long eventsStored;

        public UsageWindow Window { get; } = window;
        public TimeZoneInfo? AccountZone { get; } = accountZone;
        public DateTimeOffset Started { get; } = started;
        public IReadOnlyDictionary<string, DateTimeOffset> Watermarks { get; } = watermarks;
        public ConcurrentBag<AppDayFailure> Failures { get; } = [];
        public ConcurrentBag<ZeroUsageDay> ZeroUsage { get; } = [];
        public long EventsStored => Interlocked.Read(ref eventsStored);

        /// <summary>Returns when fewer than <see cref="BatchesAhead"/> batches wait for the store: the back-pressure on every fetcher.</summary>
        public async ValueTask WaitForWriterAsync(CancellationToken cancellationToken)
        {
            if (writeSlots.CurrentCount > 0)
            {
                return;
            }

            await writeSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
            writeSlots.Release();
        }

        /// <summary>Writes one batch while holding one of the <see cref="BatchesAhead"/> slots.</summary>
        public async Task WriteAsync(ILedgerWriter store, IReadOnlyDictionary<string, IReadOnlyList<UsageEvent>> batch, CancellationToken cancellationToken)
        {
            await writeSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await store.ReplaceSourcesAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                writeSlots.Release();
            }

            Stored(batch.Values.Sum(e => (long)e.Count));
        }

        public void Dispose() => writeSlots.Dispose();

        public void Stored(long count)
        {
            Interlocked.Add(ref eventsStored, count);
            DifyMetrics.Events.Add(count);
        }

        /// <summary>Records that an app's data between two instants (clipped to the window) is incomplete: every day it touches.</summary>
        public void Fail(DifyAppInfo app, DateTimeOffset from, DateTimeOffset to, string reason)
        {
            var start = from < Window.Start ? Window.Start : from;
            var end = to >= Window.End ? Window.End.AddTicks(-1) : to;
            if (end < start)
            {
                end = start;
            }

            var first = Window.DateOf(start);
            var last = Window.DateOf(end);
            for (var day = first; day <= last; day = day.AddDays(1))
            {
                if (day >= Window.From && day <= Window.To)
                {
                    Failures.Add(new AppDayFailure(app.Id, app.Name, day, reason));
                }
            }

            DifyMetrics.AppFailures.Add(1);
        }
    }
}
