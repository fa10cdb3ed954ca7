using System.Globalization;
using System.Text.Json.Nodes;

namespace Simulators.Dify;

internal static partial class Wire
{
    private static JsonObject Creator(JsonObject o, SimActor a)
    {
        o["created_by_role"] = a.EndUser is not null ? "end_user" : "account";
        o["created_by_account"] = Account(a.Account);
        o["created_by_end_user"] = EndUser(a.EndUser);
        return o;
    }

    private static JsonNode MetadataPrice(SimUsage u)
        => u.PriceFormat == SimPriceFormat.Number ? JsonValue.Create(u.TotalPrice) : JsonValue.Create(u.TotalPrice.ToString("F7", CultureInfo.InvariantCulture));

    /// <summary>One node execution (docs/dify.md), shaped by <see cref="SimNode.Shape"/>.</summary>
    /// <param name="hideNestedAgentUsage">Drops the nested agent usage (a build that never wrote it), while the run's total still counts it.</param>
    /// <param name="malformedNestedAgentUsage">Writes the nested total as a word instead of a number.</param>
    public static JsonObject Node(SimWorkflowRun run, SimNode n, bool hideNestedAgentUsage = false, bool malformedNestedAgentUsage = false)
    {
        JsonNode? processData = null;
        JsonNode? outputs = new JsonObject { ["text"] = "ok" };
        JsonObject? meta = n.NullMetadata ? null : new JsonObject();
        var u = n.Usage;
        switch (n.Shape)
        {
            case SimNodeUsageShape.ProcessData when u is not null:
                var pd = new JsonObject
                {
                    ["model_mode"] = "chat",
                    ["prompts"] = n.ProcessDataTruncated ? null : new JsonArray(new JsonObject { ["role"] = "user", ["text"] = "…", ["files"] = new JsonArray() }),
                    ["usage"] = Usage(u),
                    ["finish_reason"] = "stop",
                };
                if (n.Model is { } model)
                {
                    pd["model_provider"] = model.RawProvider;
                    pd["model_name"] = model.RawModel;
                }

                processData = pd;
                outputs = n.NodeType == "question-classifier"
                    ? new JsonObject { ["class_name"] = "Billing", ["class_id"] = "2", ["usage"] = Usage(u) }
                    : new JsonObject { ["text"] = "answer", ["usage"] = Usage(u), ["finish_reason"] = "stop" };
                meta = UsageMeta(u);
                break;
            case SimNodeUsageShape.OutputsOnly when u is not null:
                processData = new JsonObject();
                outputs = new JsonObject { ["text"] = "agent answer", ["usage"] = Usage(u), ["files"] = new JsonArray() };
                meta = UsageMeta(u);
                meta["agent_log"] = new JsonArray();
                break;
            case SimNodeUsageShape.MetadataOnly when u is not null:
                processData = new JsonObject();
                outputs = new JsonObject { ["text"] = "agent answer", ["files"] = new JsonArray() };
                meta = UsageMeta(u);
                meta["tool_info"] = new JsonObject { ["icon"] = null };
                break;
            case SimNodeUsageShape.AgentNested when u is not null:
                processData = new JsonObject();
                outputs = new JsonObject { ["output"] = "agent answer" };
                meta = new JsonObject
                {
                    ["agent_log"] = new JsonObject
                    {
                        ["agent_backend"] = new JsonObject
                        {
                            ["run_id"] = n.Id.ToString("N"),
                            ["usage"] = hideNestedAgentUsage ? null : new JsonObject
                            {
                                ["total_tokens"] = malformedNestedAgentUsage ? JsonValue.Create("many") : JsonValue.Create(u.TotalTokens),
                                ["completion_tokens"] = u.CompletionTokens,
                                ["total_price"] = Price(u.TotalPrice, u.PriceFormat),
                                ["currency"] = u.Currency,
                            },
                        },
                    },
                };
                break;
            case SimNodeUsageShape.Container when u is not null:
                outputs = new JsonObject { ["output"] = new JsonArray("a", "b") };
                meta = UsageMeta(u);
                meta[n.NodeType == "loop" ? "loop_duration_map" : "iteration_duration_map"] = new JsonObject();
                break;
            default:
                break;
        }

        if (n.ParentContainerNodeId is { } parent)
        {
            meta ??= new JsonObject();
            meta[n.ParentContainerType == "loop" ? "loop_id" : "iteration_id"] = parent;
        }

        var o = new JsonObject
        {
            ["id"] = n.Id.ToString(),
            ["index"] = n.Index,
            ["predecessor_node_id"] = null,
            ["node_id"] = n.NodeId,
            ["node_type"] = n.NodeType,
            ["title"] = n.Title,
            ["inputs"] = new JsonObject(),
            ["process_data"] = processData,
            ["outputs"] = outputs,
            ["status"] = n.Status,
            ["error"] = n.Status == "failed" ? "Model invocation failed" : null,
            ["elapsed_time"] = 0.42,
            ["execution_metadata"] = meta,
            ["extras"] = new JsonObject(),
            // Nodes start after the run (2 s per step): a client that dates usage by the node, not by the
            // run or message, lands on the wrong day near midnight.
            ["created_at"] = Ts(run.CreatedAt.AddSeconds(2 * (n.Index - 1))),
            ["finished_at"] = Ts(run.CreatedAt.AddSeconds((2 * (n.Index - 1)) + 1)),
            ["inputs_truncated"] = false,
            ["outputs_truncated"] = false,
            ["process_data_truncated"] = n.ProcessDataTruncated,
        };
        return Creator(o, run.CreatedBy);
    }

    private static JsonObject UsageMeta(SimUsage u) => new()
    {
        ["total_tokens"] = u.TotalTokens,
        ["total_price"] = MetadataPrice(u),
        ["currency"] = u.Currency,
    };

    private static double Elapsed(SimWorkflowRun r) => r.FinishedAt is { } f ? (f - r.CreatedAt).TotalSeconds : 0;

    /// <summary>A <c>/workflow-runs</c> item (debug list).</summary>
    public static JsonObject RunListItem(SimWorkflowRun r, bool withTriggeredFrom, bool advancedChat)
    {
        var o = new JsonObject
        {
            ["id"] = r.Id.ToString(),
            ["version"] = r.TriggeredFrom == "debugging" ? "draft" : r.Version,
            ["status"] = r.Status,
            ["elapsed_time"] = Elapsed(r),
            ["total_tokens"] = r.TotalTokens,
            ["total_steps"] = r.Nodes.Count,
            ["created_by_account"] = Account(r.CreatedBy.Account),
            ["created_at"] = Ts(r.CreatedAt),
            ["finished_at"] = Ts(r.FinishedAt),
            ["exceptions_count"] = 0,
            ["retry_index"] = 0,
        };
        if (withTriggeredFrom)
        {
            o["triggered_from"] = r.TriggeredFrom;
        }

        if (advancedChat)
        {
            o["conversation_id"] = r.ConversationId?.ToString();
            o["message_id"] = r.MessageId?.ToString();
        }

        return o;
    }

    /// <summary><c>/workflow-runs/{id}</c>.</summary>
    public static JsonObject RunDetail(SimWorkflowRun r) => Creator(new JsonObject
    {
        ["id"] = r.Id.ToString(),
        ["version"] = r.TriggeredFrom == "debugging" ? "draft" : r.Version,
        ["graph"] = new JsonObject { ["nodes"] = new JsonArray(), ["edges"] = new JsonArray() },
        ["inputs"] = new JsonObject(),
        ["status"] = r.Status,
        ["outputs"] = new JsonObject(),
        ["error"] = r.Error,
        ["elapsed_time"] = Elapsed(r),
        ["total_tokens"] = r.TotalTokens,
        ["total_steps"] = r.Nodes.Count,
        ["created_at"] = Ts(r.CreatedAt),
        ["finished_at"] = Ts(r.FinishedAt),
        ["exceptions_count"] = 0,
    }, r.CreatedBy);

    /// <summary>A <c>/workflow-app-logs</c> item.</summary>
    public static JsonObject AppLog(SimWorkflowRun r) => Creator(new JsonObject
    {
        ["id"] = r.LogId.ToString(),
        ["workflow_run"] = new JsonObject
        {
            ["id"] = r.Id.ToString(),
            ["version"] = r.Version,
            ["status"] = r.Status,
            ["triggered_from"] = r.TriggeredFrom,
            ["error"] = r.Error,
            ["elapsed_time"] = Elapsed(r),
            ["total_tokens"] = r.TotalTokens,
            ["total_steps"] = r.Nodes.Count,
            ["created_at"] = Ts(r.CreatedAt),
            ["finished_at"] = Ts(r.FinishedAt),
            ["exceptions_count"] = 0,
        },
        ["details"] = null,
        ["created_from"] = r.CreatedFrom,
    }, r.CreatedBy).Also(o => o["created_at"] = Ts(r.LogCreatedAt));

    public static JsonObject Also(this JsonObject o, Action<JsonObject> a)
    {
        a(o);
        return o;
    }

    /// <summary>An <c>/apps</c> item; <paramref name="detail"/> adds the detail-only fields.</summary>
    public static JsonObject App(SimApp a, Guid ownerId, string ownerName, bool detail)
    {
        var workflowMode = a.Mode is "workflow" or "advanced-chat" or "rag-pipeline";
        JsonObject? modelConfig = a.Model is { } m && !workflowMode
            ? new JsonObject
            {
                ["model"] = new JsonObject
                {
                    ["provider"] = m.RawProvider,
                    ["name"] = m.RawModel,
                    ["mode"] = a.Mode == "completion" ? "completion" : "chat",
                    ["completion_params"] = new JsonObject { ["temperature"] = 0.2 },
                },
                ["pre_prompt"] = "You are helpful.",
                ["agent_mode"] = new JsonObject { ["enabled"] = a.ReportedMode == "agent-chat", ["strategy"] = "function_call", ["tools"] = new JsonArray() },
            }
            : null;
        var o = new JsonObject
        {
            ["id"] = a.Id.ToString(),
            ["name"] = a.Name,
            ["max_active_requests"] = null,
            ["description"] = string.Empty,
            ["mode"] = a.ReportedMode,
            ["icon_type"] = "emoji",
            ["icon"] = "🤖",
            ["icon_background"] = "#FFEAD5",
            ["icon_url"] = null,
            ["model_config"] = modelConfig,
            ["workflow"] = workflowMode ? new JsonObject { ["id"] = a.Id.ToString(), ["created_by"] = ownerId.ToString(), ["created_at"] = Ts(a.CreatedAt), ["updated_by"] = ownerId.ToString(), ["updated_at"] = Ts(a.CreatedAt) } : null,
            ["use_icon_as_answer_icon"] = false,
            ["created_by"] = ownerId.ToString(),
            ["created_at"] = Ts(a.CreatedAt),
            ["updated_by"] = ownerId.ToString(),
            ["updated_at"] = Ts(a.CreatedAt),
            ["tags"] = new JsonArray(),
            ["access_mode"] = null,
            ["create_user_name"] = ownerName,
            ["author_name"] = ownerName,
            ["has_draft_trigger"] = false,
        };
        if (a.AgentId is { } agentId)
        {
            o["bound_agent_id"] = agentId.ToString();
        }

        if (detail)
        {
            o["enable_site"] = true;
            o["enable_api"] = true;
            o["api_base_url"] = "http://localhost/v1";
            o["deleted_tools"] = new JsonArray();
            o["site"] = new JsonObject { ["title"] = a.Name, ["default_language"] = "en-US" };
        }

        return o;
    }
}
