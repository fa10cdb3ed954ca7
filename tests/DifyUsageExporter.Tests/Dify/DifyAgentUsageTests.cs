using System.Text.Json;
using DifyUsageExporter.Dify;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>The nested agent-backend usage (PR #39354) and the agent log message rows, field by field.</summary>
public class DifyAgentUsageTests
{
    private static DifyNodeExecution Node(string metadata) => new()
    {
        Id = "n1",
        NodeType = "agent",
        ExecutionMetadata = JsonDocument.Parse(metadata).RootElement.Clone(),
    };

    [Fact]
    public void Only_total_and_completion_give_input_as_total_minus_completion()
    {
        var usage = DifyUsageMapper.NodeUsage(Node("""{"agent_log":{"agent_backend":{"usage":{"total_tokens":1200,"completion_tokens":200,"total_price":"0.0012000","currency":"USD"}}}}"""));
        usage.ShouldNotBeNull();
        usage.Value.Amounts.ShouldBe(new UsageAmounts(1000, 200, 0.0012m, "USD"));
        usage.Value.Provider.ShouldBeNull();
    }

    [Fact]
    public void Prompt_and_completion_are_used_when_they_add_up_and_top_level_totals_win()
    {
        DifyUsageMapper.NodeUsage(Node("""{"agent_log":{"agent_backend":{"usage":{"prompt_tokens":70,"completion_tokens":30,"total_tokens":100,"total_price":"6E-7"}}}}"""))!.Value.Amounts
            .ShouldBe(new UsageAmounts(70, 30, 0.0000006m, "USD"));
        // execution_metadata.total_tokens/total_price are what Dify's statistics read first (COALESCE).
        DifyUsageMapper.NodeUsage(Node("""{"total_tokens":150,"total_price":"0.0000150","agent_log":{"agent_backend":{"usage":{"completion_tokens":50,"total_tokens":140}}}}"""))!.Value.Amounts
            .ShouldBe(new UsageAmounts(100, 50, 0.000015m, "USD"));
    }

    [Fact]
    public void Classic_agent_logs_and_absent_usage_are_not_nested_usage()
    {
        DifyUsageMapper.NodeUsage(Node("""{"agent_log":[{"id":"step"}]}""")).ShouldBeNull();
        DifyUsageMapper.NodeUsage(Node("""{"agent_log":{"agent_backend":{"usage":null}}}""")).ShouldBeNull();
        // Without nested usage the old rule 3 still applies: total as input.
        DifyUsageMapper.NodeUsage(Node("""{"total_tokens":90,"agent_log":{"agent_backend":{"run_id":"r"}}}"""))!.Value.Amounts.ShouldBe(new UsageAmounts(90, 0, 0m, "USD"));
    }

    [Theory]
    [InlineData("""{"agent_log":{"agent_backend":{"usage":{"total_tokens":"many","completion_tokens":1}}}}""", "execution_metadata.agent_log.agent_backend.usage.total_tokens")]
    [InlineData("""{"agent_log":{"agent_backend":{"usage":[1,2]}}}""", "execution_metadata.agent_log.agent_backend.usage")]
    [InlineData("""{"agent_log":{"agent_backend":"text"}}""", "execution_metadata.agent_log.agent_backend")]
    [InlineData("""{"agent_log":{"agent_backend":{"usage":{"total_tokens":10,"completion_tokens":11}}}}""", "execution_metadata.agent_log.agent_backend.usage.completion_tokens")]
    [InlineData("""{"agent_log":{"agent_backend":{"usage":{"total_tokens":10,"completion_tokens":1,"total_price":"ten"}}}}""", "execution_metadata.agent_log.agent_backend.usage.total_price")]
    public void A_shape_that_does_not_parse_names_the_field(string metadata, string field)
    {
        var ex = Should.Throw<DifyShapeException>(() => DifyUsageMapper.NodeUsage(Node(metadata)));
        ex.Field.ShouldBe(field);
        ex.Message.ShouldContain(field);
    }

    [Fact]
    public void An_agent_log_message_is_one_unattributed_event_and_a_bad_token_count_names_the_field()
    {
        var app = new DifyAppInfo("app-1", "Agent", "agent", null, null);
        var message = JsonSerializer.Deserialize("""{"id":"m1","message_tokens":12,"answer_tokens":"8","total_price":"3.5E-6","currency":"USD","source":"service-api","from_end_user_id":"u1","created_at":1782864000}""", DifyJson.Default.DifyAgentMessage)!;
        var e = DifyAgentUsage.FromMessage(app, message, message.CreatedAt!.Value, TimeZoneInfo.Utc)!;
        (e.InputTokens, e.OutputTokens, e.Cost, e.Provider, e.Model, e.UserId, e.UserType, e.AppMode).ShouldBe((12L, 8L, 0.0000035m, "unknown", "unknown", "u1", "end_user", "agent"));
        DifyAgentUsage.Source(message.Source).ShouldBe("service-api");

        var zero = JsonSerializer.Deserialize("""{"id":"m2","message_tokens":0,"answer_tokens":0,"total_price":"0","created_at":1782864000}""", DifyJson.Default.DifyAgentMessage)!;
        DifyAgentUsage.FromMessage(app, zero, zero.CreatedAt!.Value, TimeZoneInfo.Utc).ShouldBeNull();

        var bad = JsonSerializer.Deserialize("""{"id":"m3","message_tokens":"twelve","answer_tokens":1,"created_at":1782864000}""", DifyJson.Default.DifyAgentMessage)!;
        Should.Throw<DifyShapeException>(() => DifyAgentUsage.FromMessage(app, bad, bad.CreatedAt!.Value, TimeZoneInfo.Utc)).Field.ShouldBe("agent log message m3.message_tokens");
    }
}
