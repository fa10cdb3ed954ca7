using System.Globalization;
using System.Text.Json;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Dify;

/// <summary>
/// A field of a Dify response whose shape the exporter cannot read. It is a <see cref="JsonException"/>
/// so the extractor's per-item handling marks the app's affected days incomplete, naming the app and
/// the field, instead of booking a silent zero.
/// </summary>
public sealed class DifyShapeException(string field, string detail)
    : JsonException($"Dify sent a value the exporter cannot read at {field}: {detail}")
{
    public string Field { get; } = field;
}

/// <summary>
/// Usage of the Dify Agent runtime (the 2026 <c>agent</c> app mode and agent nodes that delegate to
/// it): the nested <c>execution_metadata.agent_log.agent_backend.usage</c> of workflow node runs
/// (PR #39354), and the message rows of the agent monitoring log. Field names follow
/// <c>api/services/agent/observability_service.py</c> (<c>serialize_workflow_node_message</c>,
/// <c>serialize_log_message</c>).
/// </summary>
internal static class DifyAgentUsage
{
    /// <summary>
    /// The nested agent-backend usage of a node, or null when the node has none. Totals follow Dify's
    /// own statistics (<c>COALESCE(total_tokens, agent_log.agent_backend.usage.total_tokens)</c>); the
    /// split is prompt/completion when both are given, else input = total − completion.
    /// </summary>
    public static UsageAmounts? Nested(JsonElement metadata)
    {
        if (!metadata.TryGetProperty("agent_log", out var log) || log.ValueKind != JsonValueKind.Object
            || !log.TryGetProperty("agent_backend", out var backend) || backend.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            // Classic agent nodes write agent_log as a list of steps: no nested usage there.
            return null;
        }

        const string BackendField = "execution_metadata.agent_log.agent_backend";
        if (backend.ValueKind != JsonValueKind.Object)
        {
            throw new DifyShapeException(BackendField, $"expected an object, got {backend.ValueKind}");
        }

        if (!backend.TryGetProperty("usage", out var usage) || usage.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (usage.ValueKind != JsonValueKind.Object)
        {
            throw new DifyShapeException(BackendField + ".usage", $"expected an object, got {usage.ValueKind}");
        }

        var prompt = Tokens(usage, "prompt_tokens", BackendField + ".usage");
        var completion = Tokens(usage, "completion_tokens", BackendField + ".usage") ?? 0;
        var nestedTotal = Tokens(usage, "total_tokens", BackendField + ".usage");
        var metaTotal = Tokens(metadata, "total_tokens", "execution_metadata");
        var total = metaTotal is > 0 ? metaTotal.Value : nestedTotal ?? ((prompt ?? 0) + completion);
        if (completion > total)
        {
            throw new DifyShapeException(BackendField + ".usage.completion_tokens", string.Create(CultureInfo.InvariantCulture, $"{completion} is more than total_tokens {total}"));
        }

        var input = prompt is { } p && p + completion == total ? p : total - completion;
        var cost = Price(metadata, "total_price", "execution_metadata") ?? Price(usage, "total_price", BackendField + ".usage") ?? 0m;
        var currency = DifyUsageMapper.ReadString(usage, "currency") ?? DifyUsageMapper.ReadString(metadata, "currency") ?? DifyUsageMapper.DefaultCurrency;
        return new UsageAmounts(input, completion, cost, currency);
    }

    /// <summary>
    /// One production message of an agent app's monitoring log → one event (provider/model unknown:
    /// no console response names the model an agent message used). Null for zero tokens and zero cost.
    /// </summary>
    public static UsageEvent? FromMessage(DifyAppInfo app, DifyAgentMessage message, DateTimeOffset occurredAt, TimeZoneInfo zone)
    {
        var field = $"agent log message {message.Id}";
        var input = ToTokens(message.MessageTokens, field + ".message_tokens") ?? 0;
        var output = ToTokens(message.AnswerTokens, field + ".answer_tokens") ?? 0;
        var cost = message.TotalPrice.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null
            ? 0m
            : DifyPrice.Parse(message.TotalPrice) ?? throw new DifyShapeException(field + ".total_price", $"'{message.TotalPrice.GetRawText()}' is not a price");
        if ((input == 0 && output == 0 && cost == 0m) || string.IsNullOrEmpty(message.Id))
        {
            return null;
        }

        var (userId, userType) = !string.IsNullOrEmpty(message.FromEndUserId) ? (message.FromEndUserId, "end_user")
            : !string.IsNullOrEmpty(message.FromAccountId) ? (message.FromAccountId, "account")
            : (DifyUsageMapper.Unknown, DifyUsageMapper.Unknown);
        var currency = string.IsNullOrWhiteSpace(message.Currency) ? DifyUsageMapper.DefaultCurrency : message.Currency;
        return DifyUsageMapper.Build(message.Id, message.Id, app, userId, userType, occurredAt, zone, null, null, new UsageAmounts(input, output, cost, currency));
    }

    /// <summary>The invoke_from of a message row (<c>source</c>): a string, or an object with <c>type</c>.</summary>
    public static string? Source(JsonElement source) => source.ValueKind switch
    {
        JsonValueKind.String => source.GetString(),
        JsonValueKind.Object => DifyUsageMapper.ReadString(source, "type"),
        _ => null,
    };

    private static long? Tokens(JsonElement obj, string name, string parent) =>
        obj.TryGetProperty(name, out var value) ? ToTokens(value, parent + "." + name) : null;

    private static long? ToTokens(JsonElement value, string field)
    {
        if (value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }

        var tokens = DifyUsageMapper.ToLong(value);
        if (tokens is null or < 0)
        {
            throw new DifyShapeException(field, $"'{value.GetRawText()}' is not a token count");
        }

        return tokens;
    }

    private static decimal? Price(JsonElement obj, string name, string parent)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return DifyPrice.Parse(value) ?? throw new DifyShapeException(parent + "." + name, $"'{value.GetRawText()}' is not a price");
    }
}
