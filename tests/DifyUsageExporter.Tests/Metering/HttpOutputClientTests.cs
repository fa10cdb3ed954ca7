using System.Net;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Tests.Sync;
using Shouldly;
using Simulators.Meter;
using Xunit;

namespace DifyUsageExporter.Tests.Metering;

public sealed class HttpOutputClientTests
{
    private static readonly FakeClock Clock = new(new DateTimeOffset(2026, 3, 10, 0, 0, 0, TimeSpan.Zero), FakeTimers.FastForward);

    [Theory]
    [InlineData(400, SendOutcome.Rejected)]
    [InlineData(401, SendOutcome.Refused)]
    [InlineData(403, SendOutcome.Refused)]
    [InlineData(404, SendOutcome.Refused)]
    [InlineData(422, SendOutcome.Rejected)]
    [InlineData(418, SendOutcome.Unexplained)]
    public async Task Client_errors_are_not_retried_and_are_logged_with_a_hint(int status, SendOutcome expected)
    {
        await using var meter = await FakeApiMeter.StartAsync("t0k3n-secret");
        meter.PersistentFault = MeterFault.Http(status);
        var logs = new FakeLogs();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs.Provider));
        using var client = new HttpOutputClient("API_Meter", meter.Url, "t0k3n-secret", TimeSpan.FromSeconds(10), 3, false, Clock, loggers.CreateLogger("t"), new SecretRegistry());

        var result = await client.PostAsync("{}", TestContext.Current.CancellationToken);

        result.Delivered.ShouldBeFalse();
        result.Outcome.ShouldBe(expected);
        result.StatusCode.ShouldBe(status);
        meter.Requests.Count.ShouldBe(1);
        logs.Lines.ShouldContain(l => l.Contains($"HTTP {status}") && l.Contains("Hint"));
    }

    [Fact]
    public async Task A_schema_rejection_names_the_field_and_the_token_never_appears_in_logs()
    {
        await using var meter = await FakeApiMeter.StartAsync("t0k3n-secret");
        var logs = new FakeLogs();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs.Provider));
        var secrets = new SecretRegistry();
        using var client = new HttpOutputClient("API_Meter", meter.Url, "t0k3n-secret", TimeSpan.FromSeconds(10), 3, false, Clock, loggers.CreateLogger("t"), secrets);

        var result = await client.PostAsync("""{"tenant_id":"t0k3n-secret"}""", TestContext.Current.CancellationToken);

        result.StatusCode.ShouldBe(400);
        result.Error!.ShouldContain("tenant_id");
        result.Error!.ShouldNotContain("t0k3n-secret");
        logs.Lines.ShouldAllBe(l => !l.Contains("t0k3n-secret"));
        meter.Requests.Single().Path.ShouldBe(FakeApiMeter.DefaultPath);
    }

    [Fact]
    public async Task Conflict_counts_as_success_and_counts_are_parsed_when_present()
    {
        using var handler = new StubHandler(HttpStatusCode.Conflict, """{"inserted":1,"updated":2,"total":3}""");
        using var client = new HttpOutputClient("API_Meter", new Uri("https://meter.example.com/api/x"), "tok", TimeSpan.FromSeconds(5), 3, false, Clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new SecretRegistry(), handler);

        var result = await client.PostAsync("{}", TestContext.Current.CancellationToken);

        result.Delivered.ShouldBeTrue();
        (result.Inserted, result.Updated, result.Total).ShouldBe((1L, 2L, 3L));
        handler.Calls.ShouldBe(1);
        handler.LastUri.ShouldBe(new Uri("https://meter.example.com/api/x"));
        handler.LastAuthorization.ShouldBe("Bearer tok");
    }

    [Fact]
    public void Plain_http_is_refused_unless_loopback_or_explicitly_allowed()
    {
        Should.Throw<ConfigurationException>(() => HttpOutputClient.EnsureTransportAllowed("API_Meter", new Uri("http://meter.example.com/x"), false))
            .Message.ShouldContain("ALLOW_INSECURE_HTTP");
        HttpOutputClient.EnsureTransportAllowed("API_Meter", new Uri("http://meter.example.com/x"), true);
        HttpOutputClient.EnsureTransportAllowed("API_Meter", new Uri("http://127.0.0.1:5002/x"), false);
        HttpOutputClient.EnsureTransportAllowed("API_Meter", new Uri("https://meter.example.com/x"), false);
    }

    [Fact]
    public async Task Network_errors_are_retried_MAX_RETRY_times()
    {
        await using var meter = await FakeApiMeter.StartAsync("tok");
        var url = meter.Url;
        await meter.TakeDownAsync();
        var clock = new FakeClock(new DateTimeOffset(2026, 3, 10, 0, 0, 0, TimeSpan.Zero), FakeTimers.FastForward);
        using var client = new HttpOutputClient("API_Meter", url, "tok", TimeSpan.FromSeconds(5), 2, false, clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new SecretRegistry());

        var result = await client.PostAsync("{}", TestContext.Current.CancellationToken);

        result.Delivered.ShouldBeFalse();
        result.Outcome.ShouldBe(SendOutcome.Unreachable);
        result.Attempts.ShouldBe(3);
        clock.Delays.Count.ShouldBe(2);
    }

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Timeouts_rate_limits_and_server_errors_mean_unreachable_never_rejected(int status)
    {
        await using var meter = await FakeApiMeter.StartAsync("tok");
        meter.PersistentFault = status == 429 ? MeterFault.RateLimited("0") : MeterFault.Http(status);
        using var client = new HttpOutputClient("API_Meter", meter.Url, "tok", TimeSpan.FromSeconds(10), 1, false, new FakeClock(Clock.GetUtcNow(), FakeTimers.FastForward), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new SecretRegistry());

        var result = await client.PostAsync("{}", TestContext.Current.CancellationToken, expectedRecords: 1);

        result.Outcome.ShouldBe(SendOutcome.Unreachable);
        result.TargetDown.ShouldBeTrue();
        meter.Requests.Count.ShouldBe(2);
    }

    public static TheoryData<string, string> UnconfirmedAnswers() => new()
    {
        { nameof(MeterFault.SuccessFalse), "\"success\": false" },
        { nameof(MeterFault.Html200), "not a JSON object" },
        { nameof(MeterFault.CountZero), "counts 0 records, 1 were sent" },
    };

    [Theory]
    [MemberData(nameof(UnconfirmedAnswers))]
    public async Task A_2xx_whose_body_does_not_confirm_the_records_is_unexplained_with_a_masked_excerpt(string fault, string why)
    {
        await using var meter = await FakeApiMeter.StartAsync("t0k3n-secret");
        meter.PersistentFault = fault switch
        {
            nameof(MeterFault.SuccessFalse) => MeterFault.SuccessFalse,
            nameof(MeterFault.Html200) => MeterFault.Html200,
            _ => MeterFault.CountZero,
        };
        var logs = new FakeLogs();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs.Provider));
        using var client = new HttpOutputClient("API_Meter", meter.Url, "t0k3n-secret", TimeSpan.FromSeconds(10), 3, false, Clock, loggers.CreateLogger("t"), new SecretRegistry());

        var result = await client.PostAsync(Body(), TestContext.Current.CancellationToken, expectedRecords: 1);

        result.Outcome.ShouldBe(SendOutcome.Unexplained);
        result.StatusCode.ShouldBe(200);
        result.Error!.ShouldContain(why);
        meter.Requests.Count.ShouldBe(1); // not retried within the cycle
        meter.Rows().ShouldBeEmpty();
        logs.Lines.ShouldContain(l => l.Contains("did not confirm"));
    }

    [Fact]
    public async Task The_simulators_normal_answer_confirms_the_records()
    {
        await using var meter = await FakeApiMeter.StartAsync("tok");
        using var client = new HttpOutputClient("API_Meter", meter.Url, "tok", TimeSpan.FromSeconds(10), 3, false, Clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new SecretRegistry());

        var result = await client.PostAsync(Body(), TestContext.Current.CancellationToken, expectedRecords: 1);

        result.Outcome.ShouldBe(SendOutcome.Delivered);
        (result.Inserted, result.Updated).ShouldBe((1L, 0L));
        meter.Rows().Count.ShouldBe(1);
    }

    [Theory]
    [InlineData("""{"success":true,"processed_records":2,"inserted":0,"updated":2}""", 2, true)]
    [InlineData("""{"success":true,"total":2}""", 2, true)]
    [InlineData("""{"success":true,"inserted":1,"updated":1}""", 2, true)]
    [InlineData("""{"success":true,"processed_records":1}""", 2, false)]
    [InlineData("""{"success":true}""", 2, false)]
    [InlineData("""{"success":"true","total":2}""", 2, false)]
    [InlineData("""{"total":2}""", 2, false)]
    [InlineData("""[{"success":true,"total":2}]""", 2, false)]
    [InlineData("", 2, false)]
    public void The_answer_confirms_only_success_true_with_a_matching_count(string body, int sent, bool confirms) =>
        ApiMeterAnswer.Parse(body).Confirms(sent).ShouldBe(confirms);

    private static string Body()
    {
        var total = new DifyUsageExporter.Usage.DailyTotal(new DifyUsageExporter.Usage.DailyKey(new DateOnly(2026, 3, 1), "openai", "gpt-4o"), 10, 5, 1, 0.25m, "USD", []);
        return ApiMeterPayload.BuildRequest(DeliveryHarness.Tenant, Clock.GetUtcNow(), [(total.Key.UsageDate, ApiMeterPayload.RecordJson(total))]);
    }

    private sealed class StubHandler(HttpStatusCode status, string body) : HttpMessageHandler
    {
        public int Calls { get; private set; }

        public Uri? LastUri { get; private set; }

        public string? LastAuthorization { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Calls++;
            LastUri = request.RequestUri;
            LastAuthorization = request.Headers.Authorization?.ToString();
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body) });
        }
    }
}
