using System.Text.Json;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Usage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Metering;

public sealed class ApiMeterPayloadTests
{
    [Fact]
    public void Source_event_id_follows_the_anchor_algorithm_test_vectors()
    {
        ApiMeterPayload.SourceEventId(new DateOnly(2025, 11, 29), "anthropic", "claude-3-5-sonnet-20241022", "abc123", "user001")
            .ShouldBe("dify-2025-11-29-anthropic-claude-3-5-sonnet-20241022-36be25fe7269");
        ApiMeterPayload.SourceEventId(new DateOnly(2025, 12, 25), "openai", "gpt-4.1", "dc279ec4-0860-46e2-a789-d4b4238443de", "app-aggregate")
            .ShouldBe("dify-2025-12-25-openai-gpt-4.1-e9365632b344");
    }

    [Fact]
    public void Same_key_same_id_and_record_json_is_byte_stable()
    {
        var key = new DailyKey(new DateOnly(2026, 3, 1), "openai", "gpt-4o");
        var a = ApiMeterPayload.RecordJson(new DailyTotal(key, 1, 2, 1, 0.0000006m, "USD", []));
        var b = ApiMeterPayload.RecordJson(new DailyTotal(key, 1, 2, 1, 0.0000006m, "USD", []));
        a.ShouldBe(b);
        ApiMeterPayload.ContentHash(a).ShouldBe(ApiMeterPayload.ContentHash(b));
        ApiMeterPayload.SourceEventId(key.UsageDate, "openai", "gpt-4o").ShouldBe(ApiMeterPayload.SourceEventId(key.UsageDate, "openai", "gpt-4o"));
    }

    [Theory]
    [InlineData("0.0000006", "0.0000006")]
    [InlineData("6E-7", "0.0000006")]
    [InlineData("0E-7", "0")]
    [InlineData("12.50000000", "12.5")]
    [InlineData("0.00000005", "0.0000001")]
    public void Cost_is_a_plain_decimal_with_at_most_7_decimals(string raw, string expected)
    {
        var cost = decimal.Parse(raw, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
        ApiMeterPayload.FormatCost(cost).ShouldBe(expected);
        var json = ApiMeterPayload.RecordJson(new DailyTotal(new DailyKey(new DateOnly(2026, 3, 1), "p", "m"), 0, 0, 0, cost, "USD", []));
        json.ShouldContain($"\"cost_actual\":{expected},");
    }

    [Fact]
    public void Request_matches_the_anchor_schema()
    {
        var tenant = Guid.Parse("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b");
        var r1 = ApiMeterPayload.RecordJson(new DailyTotal(new DailyKey(new DateOnly(2026, 3, 2), "openai", "gpt-4o"), 190, 31, 4, 0.000628m, "USD", []));
        var r2 = ApiMeterPayload.RecordJson(new DailyTotal(new DailyKey(new DateOnly(2026, 3, 1), "anthropic", "claude"), 1, 1, 1, 0m, "USD", []));

        var body = ApiMeterPayload.BuildRequest(tenant, new DateTimeOffset(2026, 3, 10, 1, 2, 3, 4, TimeSpan.FromHours(9)), [(new DateOnly(2026, 3, 2), r1), (new DateOnly(2026, 3, 1), r2)]);

        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        root.GetProperty("tenant_id").GetString().ShouldBe(tenant.ToString());
        var meta = root.GetProperty("export_metadata");
        meta.GetProperty("exporter_version").GetString().ShouldNotBeNullOrEmpty();
        meta.GetProperty("export_timestamp").GetString().ShouldBe("2026-03-09T16:02:03.004Z");
        meta.GetProperty("aggregation_period").GetString().ShouldBe("daily");
        meta.GetProperty("source_system").GetString().ShouldBe("dify");
        meta.GetProperty("date_range").GetProperty("start").GetString().ShouldBe("2026-03-01T00:00:00.000Z");
        meta.GetProperty("date_range").GetProperty("end").GetString().ShouldBe("2026-03-02T23:59:59.999Z");
        var record = root.GetProperty("records")[0];
        record.GetProperty("total_tokens").GetInt64().ShouldBe(221);
        record.GetProperty("request_count").GetInt64().ShouldBe(4);
        record.GetProperty("metadata").GetProperty("source_system").GetString().ShouldBe("dify");
        record.GetProperty("metadata").TryGetProperty("source_app_id", out _).ShouldBeFalse();
        record.GetProperty("currency").GetString().ShouldBe("USD");
    }
}
