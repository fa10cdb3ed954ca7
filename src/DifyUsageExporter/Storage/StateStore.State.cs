namespace DifyUsageExporter.Storage;

public sealed partial class StateStore
{
    /// <summary>A value of the kv table (callers prefix their keys, e.g. "dify.").</summary>
    public async Task<string?> ReadStateAsync(string key, CancellationToken cancellationToken)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM kv WHERE key = @k";
        command.AddWithValue("@k", key);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task WriteStateAsync(string key, string value, CancellationToken cancellationToken)
    {
        await WriteAsync(async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO kv (key, value, updated_at) VALUES (@k, @v, @now) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";
            command.AddWithValue("@k", key);
            command.AddWithValue("@v", value);
            command.AddWithValue("@now", Now());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteStateAsync(string key, CancellationToken cancellationToken)
    {
        await WriteAsync(async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM kv WHERE key = @k";
            command.AddWithValue("@k", key);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }
}
