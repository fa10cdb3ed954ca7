using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DifyUsageExporter.Dify;

// Wire records of the Dify console API (docs/dify.md; Dify's api/controllers/console/ and api/fields/). Only the fields
// the exporter reads are declared; everything else is ignored. Parts whose shape varies between
// Dify versions and node types (usage objects, process_data, outputs, execution_metadata,
// model_config) stay JsonElement and are read defensively by DifyUsageMapper; token counts are read
// leniently into numbers (LenientInt64Converter).

/// <summary>page/limit envelope (apps, conversations, app logs) and cursor envelopes (messages).</summary>
internal sealed class DifyPage<T>
{
    public int? Page { get; set; }
    public int? Limit { get; set; }
    public long? Total { get; set; }
    public bool? HasMore { get; set; }
    public List<T>? Data { get; set; }
}

internal sealed class DifyApp
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public string? Mode { get; set; }
    public JsonElement ModelConfig { get; set; }
    /// <summary>Agent apps (2026): the agent whose monitoring log holds the app's messages.</summary>
    public string? BoundAgentId { get; set; }
    /// <summary>Set by the extractor, never on the wire: a knowledge pipeline (<see cref="Id"/> = pipeline id).</summary>
    [JsonIgnore]
    public bool IsPipeline { get; set; }
}

internal sealed class DifyConversation
{
    public string? Id { get; set; }
    public string? FromEndUserId { get; set; }
    public string? FromAccountId { get; set; }
    [JsonConverter(typeof(UnixSecondsConverter))]
    public DateTimeOffset? CreatedAt { get; set; }
    [JsonConverter(typeof(UnixSecondsConverter))]
    public DateTimeOffset? UpdatedAt { get; set; }
}

/// <summary>Completion conversation detail: one message.</summary>
internal sealed class DifyConversationDetail
{
    public string? Id { get; set; }
    public string? FromEndUserId { get; set; }
    public string? FromAccountId { get; set; }
    [JsonConverter(typeof(UnixSecondsConverter))]
    public DateTimeOffset? CreatedAt { get; set; }
    public DifyMessage? Message { get; set; }
}

internal sealed class DifyMessage
{
    public string? Id { get; set; }
    public string? ConversationId { get; set; }
    [JsonConverter(typeof(LenientInt64Converter))]
    public long? MessageTokens { get; set; }
    [JsonConverter(typeof(LenientInt64Converter))]
    public long? AnswerTokens { get; set; }
    public string? FromSource { get; set; }
    public string? FromEndUserId { get; set; }
    public string? FromAccountId { get; set; }
    public string? WorkflowRunId { get; set; }
    [JsonConverter(typeof(UnixSecondsConverter))]
    public DateTimeOffset? CreatedAt { get; set; }
    public JsonElement Metadata { get; set; }
    public string? Status { get; set; }
}

internal sealed class DifyWorkflowAppLog
{
    public string? Id { get; set; }
    public DifyWorkflowRunSummary? WorkflowRun { get; set; }
    public string? CreatedFrom { get; set; }
    public string? CreatedByRole { get; set; }
    public DifyPerson? CreatedByAccount { get; set; }
    public DifyPerson? CreatedByEndUser { get; set; }
    [JsonConverter(typeof(UnixSecondsConverter))]
    public DateTimeOffset? CreatedAt { get; set; }
}

internal sealed class DifyWorkflowRunSummary
{
    public string? Id { get; set; }
    public string? Status { get; set; }
    /// <summary><c>app-run</c>, or <c>webhook</c> / <c>schedule</c> / <c>plugin</c> for trigger-started runs (2026).</summary>
    public string? TriggeredFrom { get; set; }
    [JsonConverter(typeof(LenientInt64Converter))]
    public long? TotalTokens { get; set; }
    [JsonConverter(typeof(UnixSecondsConverter))]
    public DateTimeOffset? CreatedAt { get; set; }
}

internal sealed class DifyPerson
{
    public string? Id { get; set; }
    public string? Type { get; set; }
    public string? SessionId { get; set; }
    public string? Name { get; set; }
    public string? Email { get; set; }
}

internal sealed class DifyNodeExecutionList
{
    public List<DifyNodeExecution>? Data { get; set; }
}

internal sealed class DifyNodeExecution
{
    public string? Id { get; set; }
    public string? NodeId { get; set; }
    public string? NodeType { get; set; }
    public string? Title { get; set; }
    public JsonElement ProcessData { get; set; }
    public JsonElement Outputs { get; set; }
    public JsonElement ExecutionMetadata { get; set; }
    public string? Status { get; set; }
    [JsonConverter(typeof(UnixSecondsConverter))]
    public DateTimeOffset? CreatedAt { get; set; }
    public DifyPerson? CreatedByAccount { get; set; }
    public DifyPerson? CreatedByEndUser { get; set; }
}

internal sealed class DifyLoginRequest
{
    public required string Email { get; set; }
    public required string Password { get; set; }
    public bool RememberMe { get; set; }
}

internal sealed class DifyRefreshRequest
{
    public required string RefreshToken { get; set; }
}

internal sealed class DifySwitchRequest
{
    public required string TenantId { get; set; }
}

/// <summary>Login/refresh body: <c>result</c> + <c>data</c> (tokens object, or a failure string).</summary>
internal sealed class DifyResultBody
{
    public string? Result { get; set; }
    public JsonElement Data { get; set; }
    public string? Message { get; set; }
}

/// <summary>Error envelope <c>{"code","message","status"}</c>.</summary>
internal sealed class DifyErrorBody
{
    public string? Code { get; set; }
    public string? Message { get; set; }
    public string? Result { get; set; }
    public JsonElement Data { get; set; }
}

internal sealed class DifyProfile
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public string? Email { get; set; }
    public string? Timezone { get; set; }
}

internal sealed class DifyWorkspaceList
{
    public List<DifyWorkspace>? Workspaces { get; set; }
}

internal sealed class DifyWorkspace
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public string? Status { get; set; }
    public bool? Current { get; set; }
}

/// <summary>
/// Dify timestamps: integer Unix seconds (UTC). Also accepts fractional seconds, numeric strings,
/// ISO-8601 strings and null, so one odd value never fails a whole page.
/// </summary>
internal sealed class UnixSecondsConverter : JsonConverter<DateTimeOffset?>
{
    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                if (reader.TryGetInt64(out var seconds))
                {
                    return DateTimeOffset.FromUnixTimeSeconds(seconds);
                }

                return DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Floor(reader.GetDouble() * 1000));
            case JsonTokenType.String:
                var text = reader.GetString();
                if (string.IsNullOrWhiteSpace(text))
                {
                    return null;
                }

                if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s))
                {
                    return DateTimeOffset.FromUnixTimeSeconds(s);
                }

                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
                {
                    return parsed;
                }

                return null;
            case JsonTokenType.Null:
                return null;
            default:
                reader.Skip();
                return null;
        }
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteNumberValue(value.Value.ToUnixTimeSeconds());
        }
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DifyPage<DifyApp>))]
[JsonSerializable(typeof(DifyApp))]
[JsonSerializable(typeof(DifyPage<DifyConversation>))]
[JsonSerializable(typeof(DifyConversationDetail))]
[JsonSerializable(typeof(DifyPage<DifyMessage>))]
[JsonSerializable(typeof(DifyPage<DifyWorkflowAppLog>))]
[JsonSerializable(typeof(DifyNodeExecutionList))]
[JsonSerializable(typeof(DifyLoginRequest))]
[JsonSerializable(typeof(DifyRefreshRequest))]
[JsonSerializable(typeof(DifySwitchRequest))]
[JsonSerializable(typeof(DifyResultBody))]
[JsonSerializable(typeof(DifyErrorBody))]
[JsonSerializable(typeof(DifyProfile))]
[JsonSerializable(typeof(DifyWorkspaceList))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(DifyPage<DifyAgentApp>))]
[JsonSerializable(typeof(DifyPage<DifyAgentLogRow>))]
[JsonSerializable(typeof(DifyPage<DifyAgentMessage>))]
[JsonSerializable(typeof(DifyPage<DifyDataset>))]
[JsonSerializable(typeof(DifyRunList))]
[JsonSerializable(typeof(DifyStatistics))]
[JsonSerializable(typeof(DifyAgentSummary))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(string))]
internal sealed partial class DifyJson : JsonSerializerContext;
