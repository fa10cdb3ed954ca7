namespace DifyUsageExporter.Storage;

/// <summary>Read-only queries of the dashboard and the usage API.</summary>
public sealed partial class StateStore
{
    /// <summary>The most recently started cycles, newest first.</summary>
    public async Task<IReadOnlyList<CycleRecord>> ReadRecentCyclesAsync(int limit, CancellationToken cancellationToken)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, trigger, started_at, finished_at, outcome, summary FROM cycles ORDER BY started_at DESC, rowid DESC LIMIT @n";
        command.AddWithValue("@n", limit);
        var result = new List<CycleRecord>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new CycleRecord(
                reader.GetString(0),
                reader.GetString(1),
                ParseInstant(reader.GetString(2)),
                reader.IsDBNull(3) ? null : ParseInstant(reader.GetString(3)),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return result;
    }

    /// <summary>The time zone of the latest extraction (the zone the ledger's usage days are in), or null before the first one.</summary>
    public async Task<string?> ReadLatestUsageTimeZoneAsync(CancellationToken cancellationToken)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT time_zone FROM day_extractions ORDER BY extracted_at DESC LIMIT 1";
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }
}
