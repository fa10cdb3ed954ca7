using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Sync;

/// <summary>What one export should do. Null dates = the configured DIFY_FETCH_PERIOD window.</summary>
/// <param name="FullRead">Ignore extraction watermarks and re-read the whole window.</param>
/// <param name="SummaryLine">Log the summary line (the `export` command; a cycle's executor logs its own).</param>
/// <param name="DryRun">Extract and aggregate, print the exact request bodies to <paramref name="DryRunOutput"/>, send and spool nothing.</param>
public sealed record ExportOptions(
    DateOnly? From = null,
    DateOnly? To = null,
    bool Force = false,
    bool DryRun = false,
    bool FullRead = false,
    TextWriter? DryRunOutput = null,
    bool SummaryLine = false);

/// <summary>What an export did.</summary>
public sealed record ExportResult(
    CycleOutcome Outcome,
    string Summary,
    DateOnly? From,
    DateOnly? To,
    IReadOnlyList<DateOnly> IncompleteDays,
    IReadOnlyList<DailyTotal> Totals,
    int KeysChanged,
    int RecordsDelivered,
    int SpoolRows,
    int DeadLetterRows)
{
    /// <summary>Apps the extraction skipped (unknown mode).</summary>
    public int AppsSkipped { get; init; }

    /// <summary>Usage days whose events changed in this export (re-aggregated), what a cycle reconciles.</summary>
    public IReadOnlyList<DateOnly> ChangedDays { get; init; } = [];

    /// <summary>The export failed because Dify rejected the credentials.</summary>
    public bool CredentialsRejected { get; init; }
}

/// <summary>
/// One export cycle: resend the spool, resolve the usage time zone, compute the window, extract
/// into the ledger, aggregate the complete days to (date, provider, model) totals, spool the keys
/// whose content changed since their last acknowledged delivery, and send them. Incomplete days are
/// reported and left for the next cycle; what could not be sent waits in the spool (outcome Spooled).
/// The steps are in ExportCycle.Steps.cs, the summary and notification in ExportCycle.Finish.cs.
/// </summary>
public sealed partial class ExportCycle : ICycleRunner
{
    private readonly ExporterSettings settings;
    private readonly StateStore store;
    private readonly IUsageSource source;
    private readonly DeliveryService delivery;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public ExportCycle(ExporterSettings settings, StateStore store, IUsageSource source, DeliveryService delivery, ILoggerFactory loggers, TimeProvider time)
    {
        this.settings = settings;
        this.store = store;
        this.source = source;
        this.delivery = delivery;
        this.time = time;
        logger = loggers.CreateLogger<ExportCycle>();
    }

    /// <inheritdoc />
    public async Task<CycleResult> RunCycleAsync(string trigger, string runId, CancellationToken cancellationToken)
    {
        var result = await ExportAsync(new ExportOptions(), runId, trigger, cancellationToken).ConfigureAwait(false);
        return new CycleResult(result.Outcome, result.Summary)
        {
            CaughtUp = result.Outcome != CycleOutcome.Failed && result.IncompleteDays.Count == 0 && result.SpoolRows == 0,
            AppsSkipped = result.AppsSkipped,
            CredentialsRejected = result.CredentialsRejected,
        };
    }

    /// <summary>Runs one export (the cycle, or the `export` command with explicit days).</summary>
    public async Task<ExportResult> ExportAsync(ExportOptions options, string runId, string trigger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var run = new CycleRun(options, runId, trigger);
        delivery.Totals.Reset();
        source.BeginCycle();
        try
        {
            await ResendSpoolAsync(run, cancellationToken).ConfigureAwait(false);
            var zone = await source.ResolveTimeZoneAsync(cancellationToken).ConfigureAwait(false);
            if (ChooseWindow(run, zone))
            {
                var report = await ExtractAsync(run, zone, cancellationToken).ConfigureAwait(false);
                await FindCompleteDaysAsync(run, report, cancellationToken).ConfigureAwait(false);
                var sendable = await AggregateAsync(run, cancellationToken).ConfigureAwait(false);
                var items = await ChangedItemsAsync(run, sendable, cancellationToken).ConfigureAwait(false);
                var reportItem = await ReportItemAsync(zone, run.Complete, options.Force, cancellationToken).ConfigureAwait(false);
                if (options.DryRun)
                {
                    await PrintDryRunAsync(options, items, reportItem).ConfigureAwait(false);
                }
                else
                {
                    await DeliverAsync(run, items, reportItem, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The cycle boundary: any failure of extraction or delivery ends this cycle as Failed
            // (logged once here, notified); the spool keeps whatever was written.
            SyncLog.Failed(logger, runId, ex.Message);
            run.Problems.Insert(0, ex.Message);
            run.Failed = true;
            run.CredentialsRejected = DifyFailures.Classify(ex, settings).CredentialsRejected;
        }

        return await FinishAsync(run, cancellationToken).ConfigureAwait(false);
    }
}
