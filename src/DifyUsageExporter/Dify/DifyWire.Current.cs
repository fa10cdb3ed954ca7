using System.Text.Json;
using System.Text.Json.Serialization;

namespace DifyUsageExporter.Dify;

// Wire records of the console endpoints of current Dify (1.12–1.17): agent apps, knowledge
// pipelines and the statistics reconcile reads. Sources are cited in docs/dify.md.

/// <summary><c>GET /console/api/agent</c> item (api/controllers/console/agent/roster.py): <c>id</c> = agent id, <c>app_id</c> = app id.</summary>
internal sealed class DifyAgentApp
{
    public string? Id { get; set; }
    public string? AppId { get; set; }
    public string? Name { get; set; }
    public string? Mode { get; set; }
}

/// <summary><c>GET /console/api/agent/{id}/logs</c> row: one conversation (webapp) or one workflow node run (workflow source).</summary>
internal sealed class DifyAgentLogRow
{
    public string? Id { get; set; }
    public string? ConversationId { get; set; }
    public JsonElement Source { get; set; }
    [JsonConverter(typeof(UnixSecondsConverter))]
    public DateTimeOffset? CreatedAt { get; set; }
    [JsonConverter(typeof(UnixSecondsConverter))]
    public DateTimeOffset? UpdatedAt { get; set; }
}

/// <summary><c>GET /console/api/agent/{id}/logs/{conversation_id}/messages</c> row (<c>serialize_log_message</c>).</summary>
internal sealed class DifyAgentMessage
{
    public string? Id { get; set; }
    public string? ConversationId { get; set; }
    public string? Status { get; set; }
    /// <summary>The message's invoke_from (<c>service-api</c>, <c>web-app</c>, <c>explore</c>, <c>debugger</c>, ...).</summary>
    public JsonElement Source { get; set; }
    public string? FromEndUserId { get; set; }
    public string? FromAccountId { get; set; }
    public JsonElement MessageTokens { get; set; }
    public JsonElement AnswerTokens { get; set; }
    public JsonElement TotalPrice { get; set; }
    public string? Currency { get; set; }
    [JsonConverter(typeof(UnixSecondsConverter))]
    public DateTimeOffset? CreatedAt { get; set; }
}

/// <summary><c>GET /console/api/datasets</c> item (api/fields/dataset_fields.py).</summary>
internal sealed class DifyDataset
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public string? PipelineId { get; set; }
    public string? RuntimeMode { get; set; }
}

/// <summary>A run of <c>/rag/pipelines/{id}/workflow-runs</c> (cursor envelope, newest first).</summary>
internal sealed class DifyRunList
{
    public bool? HasMore { get; set; }
    public List<DifyWorkflowRunItem>? Data { get; set; }
}

internal sealed class DifyWorkflowRunItem
{
    public string? Id { get; set; }
    /// <summary><c>draft</c> for a preview (debugging) run, the published workflow's version otherwise.</summary>
    public string? Version { get; set; }
    public string? Status { get; set; }
    /// <summary>Not in the list fields of the 2026 sources; read when a build adds it.</summary>
    public string? TriggeredFrom { get; set; }
    public JsonElement TotalTokens { get; set; }
    public DifyPerson? CreatedByAccount { get; set; }
    [JsonConverter(typeof(UnixSecondsConverter))]
    public DateTimeOffset? CreatedAt { get; set; }
}

/// <summary>One daily row of Dify's statistics (<c>token-costs</c>, agent <c>charts.token_usage</c>).</summary>
internal sealed class DifyStatisticsRow
{
    public string? Date { get; set; }
    public JsonElement TokenCount { get; set; }
    public JsonElement TotalPrice { get; set; }
}

internal sealed class DifyStatistics
{
    public List<DifyStatisticsRow>? Data { get; set; }
}

/// <summary><c>GET /console/api/agent/{id}/statistics/summary</c>: <c>charts.token_usage</c> holds the daily rows.</summary>
internal sealed class DifyAgentSummary
{
    public DifyAgentCharts? Charts { get; set; }
}

internal sealed class DifyAgentCharts
{
    public List<DifyStatisticsRow>? TokenUsage { get; set; }
}
