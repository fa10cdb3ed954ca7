using DifyUsageExporter.Configuration;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Usage;
using Simulators.Meter;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>
/// A real SQLite store in a temp dir, the fake API_Meter on loopback, a ledger-backed usage source,
/// a fast-forward clock and (optionally) a webhook receiver. <see cref="RestartAsync"/> drops all
/// process state and reopens the store, as a crashed and restarted exporter would.
/// </summary>
public sealed class DeliveryHarness : IAsyncDisposable
{
    public const string Token = "meter-token-abcdef123456";
    public static readonly Guid Tenant = Guid.Parse("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b");

    private readonly List<DeliveryService> deliveries = [];
    private readonly List<IDisposable> disposables = [];

    private DeliveryHarness(string dir, FakeApiMeter meter, WebhookReceiver? webhook, FakeClock clock)
    {
        Dir = dir;
        Meter = meter;
        Webhook = webhook;
        Clock = clock;
        Logs = new FakeLogs();
        Loggers = LoggerFactory.Create(b => b.AddProvider(Logs.Provider).SetMinimumLevel(LogLevel.Trace));
    }

    public string Dir { get; }

    public FakeApiMeter Meter { get; }

    public WebhookReceiver? Webhook { get; }

    public FakeClock Clock { get; }

    public FakeLogs Logs { get; }

    public ILoggerFactory Loggers { get; }

    public SecretRegistry Secrets { get; } = new();

    public ExporterSettings Settings { get; set; } = null!;

    public StateStore Store { get; private set; } = null!;

    public LedgerUsageSource Source { get; private set; } = null!;

    public TimeZoneInfo Zone { get; } = TimeZoneInfo.Utc;

    /// <param name="postgres">True: the state store is a fresh PostgreSQL database (STATE_DATABASE_URL) instead of the SQLite file.</param>
    public static async Task<DeliveryHarness> CreateAsync(bool webhook = false, Func<ExporterSettings, ExporterSettings>? configure = null, bool postgres = false)
    {
        var dir = Path.Combine(Path.GetTempPath(), "due-delivery-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var meter = await FakeApiMeter.StartAsync(Token);
        var receiver = webhook ? await WebhookReceiver.StartAsync() : null;
        var harness = new DeliveryHarness(dir, meter, receiver, new FakeClock(new DateTimeOffset(2026, 3, 10, 12, 0, 0, TimeSpan.Zero), FakeTimers.FastForward));
        var settings = new ExporterSettings
        {
            DataDir = dir,
            ExternalApiUrl = meter.Url,
            ExternalApiToken = Token,
            ApiMeterTenantId = Tenant,
            ExternalApiTimeout = TimeSpan.FromSeconds(10),
            MaxRetry = 3,
            MaxSpoolRetries = 3,
            NotifyWebhookUrl = receiver?.Url,
            NotifyMinInterval = TimeSpan.FromMinutes(15),
            FetchPeriod = FetchPeriod.CurrentMonth,
            LookbackDays = 2,
            StateDatabaseConnectionString = postgres ? Support.TestStores.NewPostgresDatabase() : null,
        };
        harness.Settings = configure is null ? settings : configure(settings);
        harness.Store = StateStore.Open(harness.Settings, harness.Clock);
        harness.Source = new LedgerUsageSource(harness.Store, harness.Zone, harness.Clock);
        return harness;
    }

    /// <summary>A fresh delivery service and cycle over the current store and settings.</summary>
    public ExportCycle NewCycle()
    {
        var delivery = NewDelivery();
        return new ExportCycle(Settings, Store, Source, delivery, Loggers, Clock);
    }

    public DeliveryService NewDelivery()
    {
        var delivery = new DeliveryService(Settings, Store, Clock, Loggers, Secrets, retryBaseDelay: TimeSpan.FromMilliseconds(200));
        deliveries.Add(delivery);
        return delivery;
    }

    public Task<ExportResult> ExportAsync(DateOnly from, DateOnly to, bool force = false) =>
        NewCycle().ExportAsync(new ExportOptions(from, to, force, FullRead: true), "test", "test", CancellationToken.None);

    /// <summary>Simulates a crash and restart: the store is closed without any further write and reopened; the usage source keeps "Dify"'s data.</summary>
    public void Restart()
    {
        foreach (var d in deliveries)
        {
            d.Dispose();
        }

        deliveries.Clear();
        var events = Source.Events.ToList();
        var failing = Source.FailingDays.ToList();
        Store.Dispose();
        Store = StateStore.Open(Settings, Clock);
        Source = new LedgerUsageSource(Store, Zone, Clock);
        Source.Events.AddRange(events);
        Source.FailingDays.UnionWith(failing);
    }

    /// <summary>The `run --once` composition with the real Dify extractor (custom period = the e2e window).</summary>
    public static Task<ExportCycle> CreateCycleWithDifyAsync(DeliveryHarness h)
    {
        h.Settings = h.Settings with { FetchPeriod = FetchPeriod.Custom, FetchStartDate = new DateOnly(2026, 3, 1), FetchEndDate = new DateOnly(2026, 3, 16), LookbackDays = 1 };
        var source = DifyUsageExporter.Dify.DifyUsageSource.Create(h.Settings, h.Store, h.Loggers, h.Clock, h.Secrets);
        h.disposables.Add(source);
        return Task.FromResult(new ExportCycle(h.Settings, h.Store, source, h.NewDelivery(), h.Loggers, h.Clock));
    }

    public Task RestartAsync()
    {
        Restart();
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var d in deliveries)
        {
            d.Dispose();
        }

        foreach (var d in disposables)
        {
            d.Dispose();
        }

        Store.Dispose();
        Loggers.Dispose();
        await Meter.DisposeAsync();
        if (Webhook is not null)
        {
            await Webhook.DisposeAsync();
        }

        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp dir left behind does not affect results.
        }
    }

    private static int sequence;

    /// <summary>An event with the given raw provider/model (normalisation is the exporter's job).</summary>
    public static UsageEvent Event(DateOnly day, string provider, string model, long input, long output, decimal cost, string app = "app-1", string user = "user-1", string currency = "USD", int hour = 10)
    {
        var n = Interlocked.Increment(ref sequence);
        return new UsageEvent
        {
            EventId = $"ev-{n}",
            SourceId = $"msg-{n}",
            AppId = app,
            AppName = app + " name",
            AppMode = "chat",
            UserId = user,
            UserType = "end_user",
            OccurredAt = new DateTimeOffset(day.ToDateTime(new TimeOnly(hour, 0)), TimeSpan.Zero),
            UsageDate = day,
            Provider = provider,
            Model = model,
            InputTokens = input,
            OutputTokens = output,
            Cost = cost,
            Currency = currency,
        };
    }
}
