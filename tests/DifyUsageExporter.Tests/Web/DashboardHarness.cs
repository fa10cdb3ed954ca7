using System.Globalization;
using DifyUsageExporter.Hosting;
using Microsoft.Data.Sqlite;
using Shouldly;
using Simulators.Dify;
using Simulators.Meter;

namespace DifyUsageExporter.Tests.Web;

/// <summary>
/// The real exporter against both simulators: one `run --once` fills the ledger, records a cycle
/// and delivers; then the daemon runs with the dashboard enabled on a free loopback port.
/// </summary>
public sealed class DashboardHarness : IAsyncDisposable
{
    public const string User = "ops";
    public const string Password = "dashboard-Known-Secret-7f3a";
    public const string MeterToken = "meter-token-Dashboard-Secret-42";
    public static readonly DateOnly From = new(2026, 2, 28);
    public static readonly DateOnly To = new(2026, 3, 16);

    private readonly TempDir dir = new();
    private readonly CancellationTokenSource stop = new();
    private Task<int>? daemon;

    private DashboardHarness(DifySimulator dify, FakeApiMeter meter)
    {
        Dify = dify;
        Meter = meter;
    }

    public DifySimulator Dify { get; }

    public FakeApiMeter Meter { get; }

    public Uri Address { get; private set; } = null!;

    public string DataDir => Path.Combine(dir.Path, "data");

    public ConcurrentWriter Log { get; } = new();

    public Dictionary<string, string> Variables => new(StringComparer.Ordinal)
    {
        ["DIFY_API_BASE_URL"] = Dify.BaseUrl.ToString(),
        ["DIFY_EMAIL"] = Dify.Options.Email,
        ["DIFY_PASSWORD"] = Dify.Options.Password,
        ["DIFY_FETCH_RETRY_COUNT"] = "1",
        ["DIFY_FETCH_RETRY_DELAY_MS"] = "100",
        ["DIFY_FETCH_PERIOD"] = "custom",
        ["DIFY_FETCH_START_DATE"] = From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["DIFY_FETCH_END_DATE"] = To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["DIFY_LOOKBACK_DAYS"] = "0",
        ["EXTERNAL_API_URL"] = Meter.Url.ToString(),
        ["EXTERNAL_API_TOKEN"] = MeterToken,
        ["API_METER_TENANT_ID"] = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
        ["DATA_DIR"] = DataDir,
        ["HEALTHCHECK_PORT"] = "0",
        ["CRON_SCHEDULE"] = "0 0 1 1 *",
        ["DASHBOARD_ENABLED"] = "true",
        ["DASHBOARD_USER"] = User,
        ["DASHBOARD_PASSWORD"] = Password,
    };

    public static async Task<DashboardHarness> StartAsync(CancellationToken cancellationToken)
    {
        var dify = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 11 }) }, cancellationToken);
        var harness = new DashboardHarness(dify, await FakeApiMeter.StartAsync(MeterToken));
        var env = Composition.CreateEnvironment(harness.Variables, harness.dir.Path, harness.Log, harness.Log, TimeProvider.System);
        (await new Daemon(env, Composition.CycleRunner).RunAsync(once: true, cancellationToken)).ShouldBe(0, harness.Log.ToString());

        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = new Daemon(env, Composition.CycleRunner) { HealthListening = listening.SetResult };
        harness.daemon = Task.Run(() => running.RunAsync(once: false, harness.stop.Token), cancellationToken);
        harness.Address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        return harness;
    }

    /// <summary>A day's tokens, requests and exact cost straight from the SQLite ledger, without the exporter's code.</summary>
    public (long Tokens, long Requests, decimal Cost) LedgerDay(DateOnly day)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(DataDir, "exporter.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT input_tokens + output_tokens, cost FROM usage_events WHERE usage_date = $d";
        command.Parameters.AddWithValue("$d", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        long tokens = 0, requests = 0;
        var cost = 0m;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            tokens += reader.GetInt64(0);
            requests++;
            cost += decimal.Parse(reader.GetString(1), NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return (tokens, requests, Math.Round(cost, 7, MidpointRounding.AwayFromZero));
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        if (daemon is not null)
        {
            (await daemon.WaitAsync(TimeSpan.FromSeconds(30))).ShouldBe(0);
        }

        await Meter.DisposeAsync();
        await Dify.DisposeAsync();
        stop.Dispose();
        dir.Dispose();
    }
}
