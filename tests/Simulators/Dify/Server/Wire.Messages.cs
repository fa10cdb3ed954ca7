using System.Text.Json.Nodes;

namespace Simulators.Dify;

internal static partial class Wire
{
    /// <summary>MessageDetail (docs/dify.md).</summary>
    public static JsonObject Message(SimConversation conv, SimMessage m)
    {
        var metadata = new JsonObject { ["annotation_reply"] = null, ["retriever_resources"] = new JsonArray() };
        if (m.Usage is { } u)
        {
            metadata["usage"] = Usage(u);
        }

        return new JsonObject
        {
            ["id"] = m.Id.ToString(),
            ["conversation_id"] = conv.Id.ToString(),
            ["inputs"] = new JsonObject(),
            ["query"] = m.Query,
            ["message"] = string.Empty,
            ["message_tokens"] = m.MessageTokens,
            ["answer"] = m.Answer,
            ["answer_tokens"] = m.AnswerTokens,
            ["provider_response_latency"] = 1.5,
            ["from_source"] = conv.FromSource,
            ["from_end_user_id"] = conv.From.EndUser?.Id.ToString(),
            ["from_account_id"] = conv.From.Account?.Id.ToString(),
            ["feedbacks"] = new JsonArray(),
            ["workflow_run_id"] = m.WorkflowRunId?.ToString(),
            ["annotation"] = null,
            ["annotation_hit_history"] = null,
            ["created_at"] = Ts(m.CreatedAt),
            ["agent_thoughts"] = new JsonArray(),
            ["message_files"] = new JsonArray(),
            ["metadata"] = metadata,
            ["status"] = m.Status,
            ["error"] = m.Error,
            ["parent_message_id"] = m.ParentMessageId?.ToString(),
        };
    }

    private static JsonObject Stats(int like = 0) => new() { ["like"] = like, ["dislike"] = 0 };

    /// <summary>A chat-conversations item (<c>conversation_with_summary_fields</c>).</summary>
    public static JsonObject ChatConversation(SimConversation c) => new()
    {
        ["id"] = c.Id.ToString(),
        ["status"] = "normal",
        ["from_source"] = c.FromSource,
        ["from_end_user_id"] = c.From.EndUser?.Id.ToString(),
        ["from_end_user_session_id"] = c.From.EndUser?.SessionId,
        ["from_account_id"] = c.From.Account?.Id.ToString(),
        ["from_account_name"] = c.From.Account?.Name,
        ["name"] = c.Name,
        ["summary"] = c.Messages.Count > 0 ? c.Messages[0].Query : string.Empty,
        ["read_at"] = Ts(c.ReadAt),
        ["created_at"] = Ts(c.CreatedAt),
        ["updated_at"] = Ts(c.UpdatedAt),
        ["annotated"] = false,
        ["model_config"] = new JsonObject { ["model"] = null, ["pre_prompt"] = null },
        ["message_count"] = c.Messages.Count,
        ["user_feedback_stats"] = Stats(),
        ["admin_feedback_stats"] = Stats(),
        ["status_count"] = new JsonObject
        {
            ["success"] = c.Messages.Count(m => m.Status == "normal"),
            ["failed"] = c.Messages.Count(m => m.Status != "normal"),
            ["partial_success"] = 0,
        },
    };

    /// <summary>A completion-conversations item: the first message without tokens.</summary>
    public static JsonObject CompletionConversation(SimConversation c)
    {
        var m = c.Messages.Count > 0 ? c.Messages[0] : null;
        return new JsonObject
        {
            ["id"] = c.Id.ToString(),
            ["status"] = "normal",
            ["from_source"] = c.FromSource,
            ["from_end_user_id"] = c.From.EndUser?.Id.ToString(),
            ["from_end_user_session_id"] = c.From.EndUser?.SessionId,
            ["from_account_id"] = c.From.Account?.Id.ToString(),
            ["from_account_name"] = c.From.Account?.Name,
            ["read_at"] = Ts(c.ReadAt),
            ["created_at"] = Ts(c.CreatedAt),
            ["updated_at"] = Ts(c.UpdatedAt),
            ["annotation"] = null,
            ["user_feedback_stats"] = Stats(),
            ["admin_feedback_stats"] = Stats(),
            ["message"] = m is null ? null : new JsonObject
            {
                ["inputs"] = new JsonObject(),
                ["query"] = m.Query,
                ["message"] = string.Empty,
                ["answer"] = m.Answer,
            },
        };
    }

    /// <summary>completion-conversations/{id}: <c>conversation_message_detail_fields</c>.</summary>
    public static JsonObject CompletionDetail(SimConversation c) => new()
    {
        ["id"] = c.Id.ToString(),
        ["status"] = "normal",
        ["from_source"] = c.FromSource,
        ["from_end_user_id"] = c.From.EndUser?.Id.ToString(),
        ["from_account_id"] = c.From.Account?.Id.ToString(),
        ["created_at"] = Ts(c.CreatedAt),
        ["model_config"] = new JsonObject { ["model"] = null },
        ["message"] = c.Messages.Count > 0 ? Message(c, c.Messages[0]) : null,
    };
}
