namespace DifyUsageExporter.Storage;

/// <summary>The spool as /health and /metrics report it: records pending and dead, and since when the oldest pending one waits.</summary>
public sealed record SpoolSummary(long Pending, long Dead, DateTimeOffset? OldestPendingSince);

public sealed partial class SqliteStore
{
    /// <summary>Counts the spool's pending and dead records (every target) and finds the oldest pending one.</summary>
    public SpoolSummary ReadSpoolSummary()
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'dead'), 0), MIN(CASE WHEN status = 'pending' THEN created_at END)
            FROM outbox
            """;
        using var reader = command.ExecuteReader();
        reader.Read();
        return new SpoolSummary(reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : ParseInstant(reader.GetString(2)));
    }
}
