namespace DifyUsageExporter.Sync;

/// <summary>What the daemon's maintenance last did, for /health: the latest verify and backup.</summary>
public sealed class MaintenanceStatus
{
    private readonly Lock gate = new();

    public DateTimeOffset? VerifiedAt { get; private set; }

    /// <summary>The violations of the latest verify (empty when it passed or never ran).</summary>
    public IReadOnlyList<string> Violations { get; private set; } = [];

    public DateTimeOffset? LastBackupAt { get; private set; }

    public string? LastBackupFile { get; private set; }

    /// <summary>Why the latest daily backup failed; null after a success.</summary>
    public string? BackupError { get; private set; }

    public bool VerifyFailed
    {
        get
        {
            lock (gate)
            {
                return Violations.Count > 0;
            }
        }
    }

    public void Verified(DateTimeOffset at, IReadOnlyList<string> violations)
    {
        lock (gate)
        {
            VerifiedAt = at;
            Violations = violations;
        }
    }

    public void BackedUp(DateTimeOffset at, string file)
    {
        lock (gate)
        {
            LastBackupAt = at;
            LastBackupFile = file;
            BackupError = null;
        }
    }

    public void BackupFailed(string error)
    {
        lock (gate)
        {
            BackupError = error;
        }
    }
}
