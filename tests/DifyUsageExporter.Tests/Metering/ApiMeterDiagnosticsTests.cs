using DifyUsageExporter.Configuration;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Tests.Sync;
using Shouldly;
using Simulators.Meter;
using Xunit;

namespace DifyUsageExporter.Tests.Metering;

public sealed class ApiMeterDiagnosticsTests
{
    private static readonly FakeClock Clock = new(new DateTimeOffset(2026, 3, 10, 0, 0, 0, TimeSpan.Zero), FakeTimers.FastForward);

    private static ExporterSettings Settings(Uri url, string token) => new()
    {
        ExternalApiUrl = url,
        ExternalApiToken = token,
        ApiMeterTenantId = DeliveryHarness.Tenant,
    };

    [Fact]
    public async Task A_good_token_is_confirmed_without_writing_anything()
    {
        await using var meter = await FakeApiMeter.StartAsync("good-token");

        var result = await ApiMeterDiagnostics.CheckAsync(Settings(meter.Url, "good-token"), Clock, new SecretRegistry(), TestContext.Current.CancellationToken);

        result.Ok.ShouldBeTrue(result.Message);
        result.TokenAccepted.ShouldBe(true);
        meter.Rows().ShouldBeEmpty();
        meter.Requests[0].Status.ShouldBe(400);
    }

    [Fact]
    public async Task A_bad_token_is_reported()
    {
        await using var meter = await FakeApiMeter.StartAsync("good-token");

        var result = await ApiMeterDiagnostics.CheckAsync(Settings(meter.Url, "wrong-token"), Clock, new SecretRegistry(), TestContext.Current.CancellationToken);

        result.Ok.ShouldBeFalse();
        result.TokenAccepted.ShouldBe(false);
        result.Message.ShouldContain("EXTERNAL_API_TOKEN");
        result.Message.ShouldNotContain("wrong-token");
    }

    [Fact]
    public async Task A_wrong_path_and_a_dead_server_are_reported()
    {
        await using var meter = await FakeApiMeter.StartAsync("good-token");
        var wrongPath = await ApiMeterDiagnostics.CheckAsync(Settings(new Uri(meter.Url, "/v1/usage"), "good-token"), Clock, new SecretRegistry(), TestContext.Current.CancellationToken);
        wrongPath.Ok.ShouldBeFalse();
        wrongPath.Status.ShouldBe(404);

        var url = meter.Url;
        await meter.TakeDownAsync();
        var down = await ApiMeterDiagnostics.CheckAsync(Settings(url, "good-token"), Clock, new SecretRegistry(), TestContext.Current.CancellationToken);
        down.Ok.ShouldBeFalse();
        down.Reachable.ShouldBeFalse();
    }
}
