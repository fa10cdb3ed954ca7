using System.Globalization;
using System.Text.Json.Nodes;

namespace Simulators.Dify;

/// <summary>The rows the agent endpoints answer with: messages, node messages and the workflow nodes bound to an agent.</summary>
internal static partial class AgentEndpoints
{
    /// <summary><c>serialize_log_message</c>.</summary>
    private static JsonObject Message(SimApp app, SimConversation conv, SimMessage m) => new()
    {
        ["id"] = m.Id.ToString(),
        ["message_id"] = m.Id.ToString(),
        ["conversation_id"] = conv.Id.ToString(),
        ["conversation_name"] = conv.Name,
        ["query"] = m.Query,
        ["answer"] = m.Answer,
        ["status"] = m.Status == "error" ? "failed" : "success",
        ["error"] = m.Error,
        ["source"] = InvokeFrom(conv),
        ["from_source"] = conv.FromSource,
        ["from_end_user_id"] = conv.From.EndUser?.Id.ToString(),
        ["from_account_id"] = conv.From.Account?.Id.ToString(),
        ["feedback_enabled"] = true,
        ["feedbacks"] = new JsonArray(),
        ["message_tokens"] = m.MessageTokens,
        ["answer_tokens"] = m.AnswerTokens,
        ["total_tokens"] = m.MessageTokens + m.AnswerTokens,
        // str(Decimal): exponent form for tiny values, as Dify writes it.
        ["total_price"] = Wire.Price(m.DbTotalPrice, m.Usage?.PriceFormat == SimPriceFormat.Exponent ? SimPriceFormat.Exponent : SimPriceFormat.Trimmed),
        ["currency"] = "USD",
        ["latency"] = 1.5,
        ["created_at"] = Wire.Ts(m.CreatedAt),
        ["updated_at"] = Wire.Ts(m.CreatedAt),
        ["app_id"] = app.Id.ToString(),
    };

    /// <summary><c>serialize_workflow_node_message</c>: a bound workflow agent node as one log message.</summary>
    private static JsonObject NodeMessage(SimWorkflowRun run, SimNode node) => new()
    {
        ["id"] = node.Id.ToString(),
        ["message_id"] = node.Id.ToString(),
        ["conversation_id"] = node.Id.ToString(),
        ["query"] = node.Title,
        ["answer"] = "agent answer",
        ["status"] = "success",
        ["from_end_user_id"] = run.CreatedBy.EndUser?.Id.ToString(),
        ["from_account_id"] = run.CreatedBy.Account?.Id.ToString(),
        ["feedback_enabled"] = false,
        ["feedbacks"] = new JsonArray(),
        ["message_tokens"] = 0,
        ["answer_tokens"] = node.Usage?.CompletionTokens ?? 0,
        ["total_tokens"] = node.Usage?.TotalTokens ?? 0,
        ["total_price"] = (node.Usage?.TotalPrice ?? 0m).ToString(CultureInfo.InvariantCulture),
        ["currency"] = "USD",
        ["created_at"] = Wire.Ts(NodeTime(run, node)),
        ["updated_at"] = Wire.Ts(NodeTime(run, node)),
    };

    private static DateTimeOffset NodeTime(SimWorkflowRun run, SimNode node) => run.CreatedAt.AddSeconds(2 * (node.Index - 1));

    /// <summary>Workflow agent nodes bound to this agent app (every run of the binding workflow, as Dify's join does).</summary>
    private static IEnumerable<(SimApp Workflow, SimWorkflowRun Run, SimNode Node)> BoundNodes(HttpContext ctx, SimApp agent)
        => ConsoleAuth.Principal(ctx).Workspace.Apps.Where(a => a.Mode == "workflow" && !a.Archived)
            .SelectMany(w => w.Runs.SelectMany(r => r.Nodes.Where(n => n.BoundAgentAppId == agent.Id).Select(n => (w, r, n))));
}
