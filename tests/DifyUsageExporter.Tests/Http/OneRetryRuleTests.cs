using System.Globalization;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Http;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Tests.Sync;
using Shouldly;
using Simulators.Dify;
using Simulators.Meter;
using Xunit;

namespace DifyUsageExporter.Tests.Http;

/// <summary>
/// The Dify client, API_Meter and the notification webhook retry the same answers (connection
/// errors, timeouts, 408, 429, 5xx) and wait as long as a <c>Retry-After</c> asks, capped; each
/// against its own real server on 127.0.0.1. Backoff runs on a fast-forward clock, which records
/// every wait it was asked for.
/// </summary>
public sealed class OneRetryRuleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Now, to the whole second, so an HTTP-date Retry-After converts to an exact wait.</summary>
    private static FakeClock Clock()
    {
        var now = TimeProvider.System.GetUtcNow();
        return new FakeClock(new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero), FakeTimers.FastForward);
    }

    private static DifyConsoleClient Dify(DifySimulator sim, FakeClock clock, FakeLogs logs, int retries = 2) => new(
        new ExporterSettings
        {
            DifyBaseUrl = sim.BaseUrl,
            DifyEmail = sim.Options.Email,
            DifyPassword = sim.Options.Password,
            DifyFetchRetryCount = retries,
            DifyFetchRetryDelay = TimeSpan.FromMilliseconds(1),
            DifyFetchTimeout = TimeSpan.FromSeconds(20),
        },
        new SecretRegistry(),
        logs,
        clock);

    /// <summary>How many GET /console/api/apps requests the simulator received.</summary>
    private static Func<int> CountAppLists(DifySimulator sim)
    {
        var count = 0;
        sim.BeforeRequest = r =>
        {
            if (r.StartsWith("GET /console/api/apps", StringComparison.Ordinal) && !r.StartsWith("GET /console/api/apps/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref count);
            }
        };
        return () => Volatile.Read(ref count);
    }

    [Theory]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(400, false)]
    [InlineData(403, false)]
    [InlineData(404, false)]
    public async Task Dify_API_Meter_and_the_webhook_retry_the_same_answers(int status, bool retried)
    {
        var expectedRequests = retried ? 2 : 1;

        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions(), Ct);
        using var dify = Dify(sim, Clock(), new FakeLogs());
        await dify.GetProfileAsync(Ct);
        var appLists = CountAppLists(sim);
        sim.Faults.Add(new DifyFault { PathContains = "/console/api/apps", Method = "GET", Kind = DifyFaultKind.Status, Status = status, Times = 1 });
        var difyFailure = await Record.ExceptionAsync(async () => await dify.ListAppsAsync(Ct).ToListAsync(Ct));
        appLists().ShouldBe(retried ? 2 : 1, "Dify");
        (difyFailure is null).ShouldBe(retried, $"Dify: {difyFailure?.Message}");

        await using var meter = await FakeApiMeter.StartAsync("tok");
        meter.Enqueue(status == 429 ? MeterFault.RateLimited("0") : MeterFault.Http(status));
        using var apiMeter = new HttpOutputClient("API_Meter", meter.Url, "tok", TimeSpan.FromSeconds(10), 2, false, Clock(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new SecretRegistry());
        var sent = await apiMeter.PostAsync("{}", Ct);
        meter.Requests.Count.ShouldBe(expectedRequests, "API_Meter");
        sent.Attempts.ShouldBe(expectedRequests);

        await using var hook = await WebhookReceiver.StartAsync();
        hook.Enqueue(status);
        using var dir = new TempDir();
        var clock = Clock();
        using var store = StateStore.Open(dir.Path, clock);
        using var notifier = new WebhookNotifier(hook.Url, TimeSpan.Zero, store, clock, new SecretRegistry(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var accepted = await notifier.NotifyAsync(NotificationKind.CycleFailed, "cycle failed", Ct);
        hook.Requests.ShouldBe(expectedRequests, "webhook");
        accepted.ShouldBe(retried);
    }

    [Fact]
    public async Task A_dropped_connection_is_retried_by_all_three()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions(), Ct);
        using var dify = Dify(sim, Clock(), new FakeLogs());
        await dify.GetProfileAsync(Ct);
        var appLists = CountAppLists(sim);
        sim.Faults.FailNext("/console/api/apps", DifyFaultKind.DropConnection, method: "GET");
        await dify.ListAppsAsync(Ct).ToListAsync(Ct);
        appLists().ShouldBe(2);

        await using var meter = await FakeApiMeter.StartAsync("tok");
        meter.Enqueue(MeterFault.Abort);
        using var apiMeter = new HttpOutputClient("API_Meter", meter.Url, "tok", TimeSpan.FromSeconds(10), 2, false, Clock(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new SecretRegistry());
        (await apiMeter.PostAsync("{}", Ct)).Attempts.ShouldBe(2);

        // The webhook: a port nobody listens on refuses every attempt (1 + 2 retries).
        await using var hook = await WebhookReceiver.StartAsync();
        var url = hook.Url;
        await hook.DisposeAsync();
        using var dir = new TempDir();
        var clock = Clock();
        using var store = StateStore.Open(dir.Path, clock);
        using var notifier = new WebhookNotifier(url, TimeSpan.Zero, store, clock, new SecretRegistry(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        (await notifier.NotifyAsync(NotificationKind.CycleFailed, "x", Ct)).ShouldBeFalse();
        clock.Delays.Count.ShouldBe(WebhookNotifier.Policy.MaxRetries);
    }

    [Theory]
    [InlineData("7", 7)]
    [InlineData("date+20", 20)]
    [InlineData("3600", 120)]
    public async Task The_Dify_client_waits_as_long_as_Retry_After_says_capped_at_two_minutes(string header, int expectedSeconds)
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions(), Ct);
        var clock = Clock();
        var logs = new FakeLogs();
        using var dify = Dify(sim, clock, logs);
        await dify.GetProfileAsync(Ct);
        var limitBefore = dify.Concurrency.Limit;
        clock.ClearDelays();
        var value = header == "date+20" ? clock.GetUtcNow().AddSeconds(20).ToString("R", CultureInfo.InvariantCulture) : header;
        sim.Faults.Add(new DifyFault { PathContains = "/console/api/apps", Method = "GET", Kind = DifyFaultKind.TooManyRequests, RetryAfter = value });

        await dify.ListAppsAsync(Ct).ToListAsync(Ct);

        clock.Delays.ShouldContain(TimeSpan.FromSeconds(expectedSeconds));
        logs.Lines.ShouldContain(l => l.Contains("429", StringComparison.Ordinal) && l.Contains((expectedSeconds * 1000).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        // The adaptive limit saw the 429 attempt (multiplicative decrease), not only the final success.
        dify.Concurrency.Limit.ShouldBeLessThan(limitBefore);
    }

    [Theory]
    [InlineData("5", 5)]
    [InlineData("600", 30)]
    public async Task The_webhook_honours_Retry_After_with_its_own_smaller_cap(string header, int expectedSeconds)
    {
        await using var hook = await WebhookReceiver.StartAsync();
        hook.Enqueue(429, header);
        using var dir = new TempDir();
        var clock = Clock();
        using var store = StateStore.Open(dir.Path, clock);
        using var notifier = new WebhookNotifier(hook.Url, TimeSpan.Zero, store, clock, new SecretRegistry(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        (await notifier.NotifyAsync(NotificationKind.DeadLetter, "dead letters", Ct)).ShouldBeTrue();

        clock.Delays.ShouldContain(TimeSpan.FromSeconds(expectedSeconds));
        hook.Requests.ShouldBe(2);
        hook.Bodies.ShouldHaveSingleItem().ShouldContain("dead letters");
    }

    [Fact]
    public async Task The_login_POST_is_not_retried_even_when_Dify_asks_to_retry_after_a_second()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions(), Ct);
        var logins = 0;
        sim.BeforeRequest = r =>
        {
            if (r.StartsWith("POST /console/api/login", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref logins);
            }
        };
        sim.Faults.Add(new DifyFault { PathContains = "/console/api/login", Method = "POST", Kind = DifyFaultKind.Status, Status = 503, RetryAfter = "1" });
        using var dify = Dify(sim, Clock(), new FakeLogs(), retries: 3);

        await Should.ThrowAsync<Exception>(() => dify.GetProfileAsync(Ct));

        logins.ShouldBe(1);
    }

    [Fact]
    public async Task An_attempt_that_times_out_names_the_variable_that_sets_the_timeout()
    {
        await using var meter = await FakeApiMeter.StartAsync("tok");
        meter.PersistentFault = MeterFault.SlowBy(TimeSpan.FromSeconds(3));
        var http = new ResilientHttp(new HttpRetryPolicy { MaxRetries = 1, BaseDelay = TimeSpan.FromMilliseconds(1), AttemptTimeout = TimeSpan.FromMilliseconds(200), TimeoutVariable = "EXAMPLE_TIMEOUT_MS" }, Clock());
        using var client = new HttpClient();
        var attempts = 0;

        var ex = await Should.ThrowAsync<HttpAttemptTimeoutException>(() => http.SendAsync(
            token =>
            {
                attempts++;
                return ResilientHttp.SendBufferedAsync(client, new HttpRequestMessage(HttpMethod.Post, meter.Url), token);
            },
            null,
            Ct));

        ex.Message.ShouldBe("no response within 200 ms (EXAMPLE_TIMEOUT_MS)");
        attempts.ShouldBe(2);
    }
}
