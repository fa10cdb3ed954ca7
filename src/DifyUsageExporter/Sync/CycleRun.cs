using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Sync;

/// <summary>What one export has found and done so far: the steps of <see cref="ExportCycle"/> fill it in, the summary reads it.</summary>
internal sealed class CycleRun(ExportOptions options, string runId, string trigger)
{
    public ExportOptions Options { get; } = options;

    public string RunId { get; } = runId;

    public string Trigger { get; } = trigger;

    /// <summary>One sentence each, for the summary and the notification.</summary>
    public List<string> Problems { get; } = [];

    /// <summary>The first pass over the spool at the start of the cycle (null in a dry run).</summary>
    public SpoolPass? Resend { get; set; }

    public DateOnly? From { get; set; }

    public DateOnly? To { get; set; }

    public IReadOnlyList<DateOnly> Incomplete { get; set; } = [];

    public IReadOnlyList<DailyTotal> Totals { get; set; } = [];

    public int Changed { get; set; }

    /// <summary>Usage days of the window whose events changed in this export (re-aggregated).</summary>
    public List<DateOnly> ChangedDays { get; } = [];

    public int Delivered { get; set; }

    public int AppsSkipped { get; set; }

    /// <summary>The Dify concurrency the extraction ended with (for the summary line).</summary>
    public string? Concurrency { get; set; }

    public bool Failed { get; set; }

    public bool CredentialsRejected { get; set; }

    /// <summary>Days of the window whose every app was read completely (and not pruned).</summary>
    public HashSet<DateOnly> Complete { get; } = [];
}
