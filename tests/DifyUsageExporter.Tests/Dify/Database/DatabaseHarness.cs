using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify.Database;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;
using Npgsql;
using Simulators.Dify;

namespace DifyUsageExporter.Tests.Dify.Database;

/// <summary>A simulated workspace written into Dify's tables of a fresh database on the test PostgreSQL, and the database source over it.</summary>
public sealed class DatabaseHarness : IDisposable
{
    private readonly TempDir dir = new();

    private DatabaseHarness(string connectionString, ExporterSettings settings)
    {
        ConnectionString = connectionString;
        Settings = settings;
        Store = StateStore.Open(dir.Path, TimeProvider.System);
        Source = new DatabaseUsageSource(settings, Store, Logs, TimeProvider.System);
    }

    public string ConnectionString { get; }
    public ExporterSettings Settings { get; }
    public FakeLogs Logs { get; } = new();
    public StateStore Store { get; }
    public DatabaseUsageSource Source { get; }

    public static SimAccount Owner => new GeneratorOptions().Owner;

    /// <summary>A new database holding <paramref name="ws"/>; the owner's time zone is <paramref name="ownerZone"/>.</summary>
    public static async Task<string> CreateAsync(SimWorkspace ws, string? ownerZone, CancellationToken ct)
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync(ct);
        await DifyDatabaseWriter.WriteAsync(connectionString, ws, Owner, ownerZone, ct);
        return connectionString;
    }

    public static DatabaseHarness Over(string connectionString, Func<ExporterSettings, ExporterSettings>? tweak = null)
    {
        var settings = new ExporterSettings { DifySource = DifySource.Database, DifyDatabaseConnectionString = connectionString };
        return new DatabaseHarness(connectionString, tweak?.Invoke(settings) ?? settings);
    }

    public Task<ExtractionReport> ExtractAsync(DateOnly from, DateOnly to, bool fullRead = true) =>
        Source.ExtractAsync(from, to, fullRead, Xunit.TestContext.Current.CancellationToken);

    public async Task<List<UsageEvent>> EventsAsync(DateOnly from, DateOnly to) =>
        await Store.ReadEventsAsync(from, to, Xunit.TestContext.Current.CancellationToken).ToListAsync(Xunit.TestContext.Current.CancellationToken);

    /// <summary>Runs SQL as the superuser against the workspace's database (to break it in a test).</summary>
    public static async Task ExecAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Xunit.TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Xunit.TestContext.Current.CancellationToken);
    }

    public void Dispose()
    {
        Source.Dispose();
        Store.Dispose();
        dir.Dispose();
    }
}
