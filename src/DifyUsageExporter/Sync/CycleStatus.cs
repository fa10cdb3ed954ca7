namespace DifyUsageExporter.Sync;

/// <summary>What /health and /metrics report about the daemon's cycles; updated by <see cref="CycleExecutor"/> and <see cref="Scheduler"/>.</summary>
public sealed class CycleStatus
{
    private readonly Lock gate = new();

    public DateTimeOffset StartedAt { get; init; }

    public bool Running { get; private set; }

    public DateTimeOffset? LastStart { get; private set; }

    public DateTimeOffset? LastEnd { get; private set; }

    public string? LastOutcome { get; private set; }

    public DateTimeOffset? LastSuccess { get; private set; }

    public DateTimeOffset? NextRun { get; private set; }

    public long Skipped { get; private set; }

    /// <summary>The daemon's daily maintenance (backup, verify), reported by /health.</summary>
    public MaintenanceStatus Maintenance { get; } = new();

    public void CycleStarted(DateTimeOffset at)
    {
        lock (gate)
        {
            Running = true;
            LastStart = at;
        }
    }

    public void CycleEnded(DateTimeOffset at, string outcome, bool success)
    {
        lock (gate)
        {
            Running = false;
            LastEnd = at;
            LastOutcome = outcome;
            if (success)
            {
                LastSuccess = at;
            }
        }
    }

    public void Scheduled(DateTimeOffset? next)
    {
        lock (gate)
        {
            NextRun = next;
        }
    }

    public void TickSkipped()
    {
        lock (gate)
        {
            Skipped++;
        }
    }

    /// <summary>Fills gaps from the store after a restart (last cycle and success of earlier processes).</summary>
    public void Restore(DateTimeOffset? lastStart, DateTimeOffset? lastEnd, string? lastOutcome, DateTimeOffset? lastSuccess)
    {
        lock (gate)
        {
            LastStart ??= lastStart;
            LastEnd ??= lastEnd;
            LastOutcome ??= lastOutcome;
            LastSuccess ??= lastSuccess;
        }
    }
}
