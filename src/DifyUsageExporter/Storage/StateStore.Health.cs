namespace DifyUsageExporter.Storage;

/// <summary>The spool as /health and /metrics report it: records pending and dead, and since when the oldest pending one waits.</summary>
public sealed record SpoolSummary(long Pending, long Dead, DateTimeOffset? OldestPendingSince);

public sealed partial class StateStore
{
    /// <summary>Counts the spool's pending and dead records (every target) and finds the oldest pending one.</summary>
    public SpoolSummary ReadSpoolSummary()
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT count(CASE WHEN status = 'pending' THEN 1 END), count(CASE WHEN status = 'dead' THEN 1 END), MIN(CASE WHEN status = 'pending' THEN created_at END)
            FROM outbox
            """;
        using var reader = command.ExecuteReader();
        reader.Read();
        return new SpoolSummary(reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : ParseInstant(reader.GetString(2)));
    }
}
