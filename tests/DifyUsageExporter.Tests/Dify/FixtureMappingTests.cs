using System.Text.Json;
using DifyUsageExporter.Dify;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>The fixture files parse into the events computed by hand from their JSON.</summary>
public class FixtureMappingTests
{
    private static readonly TimeZoneInfo Tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
    private static readonly DifyAppInfo SupportBot = new(FakeDify.SupportBot, "Support Bot", "advanced-chat", null, null);
    private static readonly DifyAppInfo Invoice = new(FakeDify.InvoiceExtractor, "Invoice Extractor", "workflow", null, null);

    [Fact]
    public void Node_executions_fixture_yields_classifier_llm_and_agent_events()
    {
        var nodes = JsonSerializer.Deserialize(Fixtures.Read("console-workflow-run-node-executions.json"), DifyJson.Default.DifyNodeExecutionList)!.Data!;
        var at = DateTimeOffset.FromUnixTimeSeconds(1763714832);
        var events = DifyUsageMapper.FromNodes(SupportBot, nodes, "msg-2", "e7d6c5b4-a392-4817-8f6e-5d4c3b2a1900", "end_user", at, Tokyo);

        events.Count.ShouldBe(3);
        events.Select(e => e.EventId).ShouldBe(["a1000000-0000-4000-8000-000000000002", "a1000000-0000-4000-8000-000000000003", "a1000000-0000-4000-8000-000000000004"]);
        // question-classifier: process_data.usage, completion_price "6E-7"
        events[0].InputTokens.ShouldBe(402);
        events[0].OutputTokens.ShouldBe(1);
        events[0].Cost.ShouldBe(0.0000609m);
        events[0].Provider.ShouldBe("langgenius/openai/openai");
        events[0].Model.ShouldBe("gpt-4o-mini");
        // llm
        (events[1].InputTokens, events[1].OutputTokens, events[1].Cost).ShouldBe((1214L, 336L, 0.0003837m));
        // agent: no process_data, usage only in outputs.usage → provider/model unknown
        (events[2].InputTokens, events[2].OutputTokens, events[2].Cost).ShouldBe((2890L, 412L, 0.0039600m));
        events[2].Provider.ShouldBe("unknown");
        events[2].Model.ShouldBe("unknown");
        events.ShouldAllBe(e => e.SourceId == "msg-2" && e.UserType == "end_user" && e.Currency == "USD" && e.UsageDate == new DateOnly(2025, 11, 21) && e.OccurredAt == at);
        // The node sums equal the message's own usage (fixture invariant).
        events.Sum(e => e.InputTokens).ShouldBe(4506);
        events.Sum(e => e.OutputTokens).ShouldBe(749);
        events.Sum(e => e.Cost).ShouldBe(0.0044046m);
    }

    [Fact]
    public void Chat_messages_fixture_usage_and_users()
    {
        var page = JsonSerializer.Deserialize(Fixtures.Read("console-chat-messages.json"), DifyJson.Default.DifyPageDifyMessage)!;
        page.HasMore.ShouldBe(false);
        var m1 = page.Data![0];
        var amounts = DifyUsageMapper.MessageUsage(m1);
        amounts.ShouldBe(new UsageAmounts(1411, 289, 0.0003851m, "USD"));
        DifyUsageMapper.MessageUser(m1, null, null).ShouldBe(("e7d6c5b4-a392-4817-8f6e-5d4c3b2a1900", "end_user"));
        m1.WorkflowRunId.ShouldBe("5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c");

        var chatApp = new DifyAppInfo("app", "FAQ Chat", "chat", "langgenius/openai/openai", "gpt-4o-mini");
        var e = DifyUsageMapper.FromMessage(chatApp, page.Data[1], null, null, page.Data[1].CreatedAt!.Value, Tokyo)!;
        (e.EventId, e.InputTokens, e.OutputTokens, e.Cost, e.Provider, e.Model).ShouldBe(("f6e5d4c3-b2a1-4098-8f7e-6d5c4b3a2918", 4506L, 749L, 0.0044046m, "langgenius/openai/openai", "gpt-4o-mini"));
        e.OccurredAt.ShouldBe(new DateTimeOffset(2025, 11, 21, 8, 47, 12, TimeSpan.Zero));
    }

    [Fact]
    public void Message_without_metadata_usage_falls_back_to_token_columns_at_zero_cost()
    {
        var message = JsonSerializer.Deserialize("""{"id":"m","message_tokens":10,"answer_tokens":5,"from_account_id":"acc","metadata":{"retriever_resources":[]},"created_at":1763714703}""", DifyJson.Default.DifyMessage)!;
        DifyUsageMapper.MessageUsage(message).ShouldBe(new UsageAmounts(10, 5, 0m, "USD"));
        DifyUsageMapper.MessageUser(message, "conv-user", null).ShouldBe(("acc", "account"));
        var noUser = JsonSerializer.Deserialize("""{"id":"m"}""", DifyJson.Default.DifyMessage)!;
        DifyUsageMapper.MessageUser(noUser, null, "conv-acc").ShouldBe(("conv-acc", "account"));
        DifyUsageMapper.MessageUser(noUser, null, null).ShouldBe(("unknown", "unknown"));
    }

    [Fact]
    public void Zero_token_zero_cost_message_is_not_an_event()
    {
        var message = JsonSerializer.Deserialize("""{"id":"m","message_tokens":0,"answer_tokens":0,"metadata":{"usage":{"prompt_tokens":0,"completion_tokens":0,"total_price":"0E-7"}},"created_at":1}""", DifyJson.Default.DifyMessage)!;
        DifyUsageMapper.FromMessage(Invoice, message, null, null, DateTimeOffset.UnixEpoch, Tokyo).ShouldBeNull();
    }

    [Fact]
    public void Workflow_app_logs_fixture_users_and_run_times()
    {
        var page = JsonSerializer.Deserialize(Fixtures.Read("console-workflow-app-logs.json"), DifyJson.Default.DifyPageDifyWorkflowAppLog)!;
        var logs = page.Data!;
        logs.Count.ShouldBe(3);
        DifyUsageMapper.LogUser(logs[0]).ShouldBe(("1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b", "end_user"));
        DifyUsageMapper.LogUser(logs[1]).ShouldBe(("2a3b4c5d-6e7f-4809-9a1b-2c3d4e5f6a7b", "end_user"));
        DifyUsageMapper.LogUser(logs[2]).ShouldBe(("8f2c1d3e-4b5a-4c6d-9e7f-0a1b2c3d4e5f", "account"));
        // 1763682002 = 2025-11-20 23:40:02 UTC = 2025-11-21 08:40:02 in Tokyo.
        logs[2].WorkflowRun!.CreatedAt.ShouldBe(new DateTimeOffset(2025, 11, 20, 23, 40, 2, TimeSpan.Zero));
        var fallback = DifyUsageMapper.FromRunFallback(Invoice, logs[2].WorkflowRun!, "u", "account", logs[2].WorkflowRun!.CreatedAt!.Value, Tokyo)!;
        (fallback.InputTokens, fallback.OutputTokens, fallback.Cost, fallback.UsageDate).ShouldBe((2519L, 0L, 0m, new DateOnly(2025, 11, 21)));
        // The failed run has 0 tokens: no event.
        DifyUsageMapper.FromRunFallback(Invoice, logs[1].WorkflowRun!, "u", "end_user", DateTimeOffset.UnixEpoch, Tokyo).ShouldBeNull();
    }

    [Fact]
    public void Apps_fixture_parses_modes_and_models()
    {
        var page = JsonSerializer.Deserialize(Fixtures.Read("console-apps.json"), DifyJson.Default.DifyPageDifyApp)!;
        page.Data!.Select(a => a.Mode).ShouldBe(["advanced-chat", "workflow", "chat", "agent-chat", "completion"]);
        DifyUsageMapper.AppModel(page.Data![2].ModelConfig).ShouldBe(("langgenius/openai/openai", "gpt-4o-mini"));
        DifyUsageMapper.AppModel(page.Data[0].ModelConfig).ShouldBe((null, null));
    }

    [Fact]
    public void Node_rules_order_containers_metadata_only_and_tolerance()
    {
        const string json = """
        {"data":[
          {"id":"it","node_type":"iteration","execution_metadata":{"total_tokens":500,"total_price":"0.5"}},
          {"id":"child","node_type":"llm","process_data":{"usage":{"prompt_tokens":100,"completion_tokens":20,"total_price":0.25},"model_provider":"openai","model_name":"gpt-4"},"execution_metadata":{"iteration_id":"it","total_tokens":120}},
          {"id":"meta","node_type":"tool-ish-new-type","process_data":{"truncated":true},"outputs":{"text":"x"},"execution_metadata":{"total_tokens":77,"total_price":"0.0000770","currency":"USD","extra":[1,2]}},
          {"id":"empty","node_type":"code","execution_metadata":{},"process_data":null,"outputs":null},
          {"id":"str","node_type":"llm","process_data":"<offloaded>","outputs":{"usage":{"prompt_tokens":"5","completion_tokens":"6","total_price":"1E-7","currency":"RMB"}},"unknown_field":{"a":1}},
          {"id":"lp","node_type":"loop","outputs":{"usage":{"prompt_tokens":9,"completion_tokens":9,"total_price":"1"}}}
        ]}
        """;
        var nodes = JsonSerializer.Deserialize(json, DifyJson.Default.DifyNodeExecutionList)!.Data!;
        var events = DifyUsageMapper.FromNodes(Invoice, nodes, "run", "u", "end_user", DateTimeOffset.UnixEpoch, TimeZoneInfo.Utc);
        events.Select(e => e.EventId).ShouldBe(["child", "meta", "str"]);
        (events[0].InputTokens, events[0].OutputTokens, events[0].Cost, events[0].Provider).ShouldBe((100L, 20L, 0.25m, "openai"));
        (events[1].InputTokens, events[1].OutputTokens, events[1].Cost, events[1].Provider).ShouldBe((77L, 0L, 0.000077m, "unknown"));
        (events[2].InputTokens, events[2].OutputTokens, events[2].Cost, events[2].Currency).ShouldBe((5L, 6L, 0.0000001m, "RMB"));
    }
}
