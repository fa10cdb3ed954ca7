using System.Text;
using Shouldly;
using Simulators.Meter;
using Xunit;

namespace DifyUsageExporter.Tests.Simulators;

public sealed class FakeApiMeterTests
{
    private const string Tenant = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";

    private static string Record(string date = "2026-03-01", string provider = "openai", string model = "gpt-4o", long input = 1, long output = 2, long? total = null, string cost = "0.0000006") =>
        $$$"""{"usage_date":"{{{date}}}","provider":"{{{provider}}}","model":"{{{model}}}","input_tokens":{{{input}}},"output_tokens":{{{output}}},"total_tokens":{{{total ?? input + output}}},"request_count":1,"cost_actual":{{{cost}}},"currency":"USD","metadata":{"source_system":"dify","source_event_id":"id-{{{date}}}-{{{provider}}}-{{{model}}}"}}""";

    private static string Body(params string[] records) =>
        $$$"""{"tenant_id":"{{{Tenant}}}","export_metadata":{"exporter_version":"1.0.0","export_timestamp":"2026-03-10T00:00:00.000Z","aggregation_period":"daily","source_system":"dify","date_range":{"start":"2026-03-01T00:00:00.000Z","end":"2026-03-01T23:59:59.999Z"}},"records":[{{{string.Join(",", records)}}}]}""";

    [Theory]
    [InlineData("cost_actual", "6E-7")]
    [InlineData("cost_actual", "0.00000061")]
    [InlineData("cost_actual", "-1")]
    [InlineData("total_tokens", null)]
    public async Task Invalid_records_are_refused_with_400_naming_the_field(string field, string? cost)
    {
        await using var meter = await FakeApiMeter.StartAsync("tok");
        var record = cost is null ? Record(total: 99) : Record(cost: cost);

        var (status, body) = await PostAsync(meter, "tok", Body(record));

        status.ShouldBe(400);
        body.ShouldContain($"records[0].{field}");
        meter.Rows().ShouldBeEmpty();
    }

    [Fact]
    public async Task Duplicate_keys_empty_and_oversized_requests_are_refused()
    {
        await using var meter = await FakeApiMeter.StartAsync("tok");
        (await PostAsync(meter, "tok", Body(Record(), Record()))).Status.ShouldBe(400);
        (await PostAsync(meter, "tok", Body())).Status.ShouldBe(400);
        var many = Enumerable.Range(0, 501).Select(i => Record(model: "m" + i)).ToArray();
        (await PostAsync(meter, "tok", Body(many))).Body.ShouldContain("500");
        meter.Rows().ShouldBeEmpty();
    }

    [Fact]
    public async Task Upsert_overwrites_by_tenant_provider_model_and_day_and_checks_the_token()
    {
        await using var meter = await FakeApiMeter.StartAsync("tok");
        (await PostAsync(meter, "wrong", Body(Record()))).Status.ShouldBe(401);

        var first = await PostAsync(meter, "tok", Body(Record(input: 1), Record(model: "other")));
        var second = await PostAsync(meter, "tok", Body(Record(input: 10)));

        first.Body.ShouldContain("\"inserted\":2");
        second.Body.ShouldContain("\"updated\":1");
        meter.Rows().Count.ShouldBe(2);
        meter.Rows().Single(r => r.Model == "gpt-4o").InputTokens.ShouldBe(10);
    }

    [Fact]
    public async Task The_standalone_command_rejects_unknown_options() =>
        (await MeterCommand.RunAsync(["meter", "--bogus"])).ShouldBe(2);

    private static async Task<(int Status, string Body)> PostAsync(FakeApiMeter meter, string token, string json)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, meter.Url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
