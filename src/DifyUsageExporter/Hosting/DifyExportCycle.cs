using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Hosting;

/// <summary>
/// The production cycle: <see cref="ExportCycle"/> over the Dify extractor and the delivery
/// service. Owns both, so the Dify session (and its refresh schedule) lives as long as the daemon
/// and is released with it.
/// </summary>
internal sealed class DifyExportCycle : ICycleRunner, IDisposable
{
    private readonly IUsageSourceWithDispose source;
    private readonly DeliveryService delivery;
    private readonly ExportCycle cycle;
    private readonly DifyReconciler? reconciler;
    private readonly DifyConsoleClient? reconcileClient;
    private readonly ILogger logger;
    private readonly StateStore store;
    private readonly TimeProvider time;

    public DifyExportCycle(ExporterSettings settings, StateStore store, ILoggerFactory loggers, TimeProvider time, SecretRegistry secrets)
    {
        this.store = store;
        this.time = time;
        delivery = new DeliveryService(settings, store, time, loggers, secrets);
        try
        {
            source = DifySources.Create(settings, store, loggers, time, secrets);
        }
        catch
        {
            delivery.Dispose();
            throw;
        }

        cycle = new ExportCycle(settings, store, source, delivery, loggers, time);
        // Reconcile reads Dify's statistics through the console: the console source shares its session; the
        // database source reconciles only when console settings are given too (docs/database-source.md).
        if (source.Inner is DifyUsageSource console)
        {
            reconciler = new DifyReconciler(store, console.Client, loggers, time);
        }
        else if (DifySources.ConsoleConfigured(settings))
        {
            reconcileClient = new DifyConsoleClient(settings, secrets, loggers, time);
            reconciler = new DifyReconciler(store, reconcileClient, loggers, time);
        }

        logger = loggers.CreateLogger<DifyExportCycle>();
    }

    /// <summary>
    /// One export cycle, then a reconcile of the days it exported against Dify's own statistics
    /// (docs/usage-semantics.md §5): unexplained differences are logged as warnings and kept for
    /// /health and the gauge; they do not change the cycle's outcome (the delivery is what it is).
    /// </summary>
    public async Task<CycleResult> RunCycleAsync(string trigger, string runId, CancellationToken cancellationToken)
    {
        var result = await cycle.ExportAsync(new ExportOptions(), runId, trigger, cancellationToken).ConfigureAwait(false);
        var summary = result.Summary;
        if (reconciler is null)
        {
            summary += "; reconcile skipped (DIFY_SOURCE=database without console settings)";
        }
        else if (result.From is { } from && result.To is { } to)
        {
            summary += await ReconcileAsync(result, from, to, cancellationToken).ConfigureAwait(false);
        }

        return new CycleResult(result.Outcome, summary);
    }

    /// <summary>Reconciles the days <see cref="ReconcileScope"/> chooses; the summary's reconcile part.</summary>
    private async Task<string> ReconcileAsync(ExportResult result, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var lastWhole = await ReconcileScope.LastWholeAsync(store, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        if (ReconcileScope.Choose(from, to, result.ChangedDays, lastWhole, now) is not { } scope)
        {
            DifyLog.ReconcileNotNeeded(logger, Iso.Instant(lastWhole!.Value.At));
            return "; reconcile: not needed, no usage day changed (whole window reconciled at " + Iso.Instant(lastWhole.Value.At) + ")";
        }

        try
        {
            // The database source's own console client: a cycle of its own (the console source's began with the export).
            reconcileClient?.BeginCycle();
            var report = await reconciler!.ReconcileAsync(scope.From, scope.To, cancellationToken).ConfigureAwait(false);
            if (scope.Whole)
            {
                await ReconcileScope.SaveWholeAsync(store, now, scope.From, scope.To, cancellationToken).ConfigureAwait(false);
            }

            var days = scope.Whole ? "whole window" : $"changed days {Iso.Day(scope.From)}..{Iso.Day(scope.To)}";
            return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"; reconcile: {report.UnexplainedRows.Count} unexplained app-days ({report.UnexplainedTokens} tokens), {report.Errors} not readable ({days})");
        }
        catch (Exception ex) when (ex is DifyApiException or DifyAuthException or System.Text.Json.JsonException && !cancellationToken.IsCancellationRequested)
        {
            DifyLog.ReconcileFailed(logger, ex.Message);
            return "; reconcile failed: " + ex.Message;
        }
    }

    public void Dispose()
    {
        source.Dispose();
        reconcileClient?.Dispose();
        delivery.Dispose();
    }
}
