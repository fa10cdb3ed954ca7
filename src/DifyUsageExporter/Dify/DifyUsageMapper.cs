using System.Globalization;
using System.Text.Json;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Dify;

/// <summary>An app as extraction sees it: identity, mode and (chat modes) the configured model.</summary>
public sealed record DifyAppInfo(string Id, string Name, string Mode, string? Provider, string? Model);

/// <summary>Tokens and cost of one usage record (a message's or a node's LLMUsage).</summary>
public readonly record struct UsageAmounts(long Input, long Output, decimal Cost, string Currency)
{
    public bool IsZero => Input == 0 && Output == 0 && Cost == 0m;
}

/// <summary>
/// Pure mapping of Dify wire records to usage events, per usage-semantics.md §1. No I/O: the
/// extractor feeds it pages; the fixture tests feed it files.
/// </summary>
internal static class DifyUsageMapper
{
    public const string Unknown = ProviderModelNormalizer.Unknown;
    public const string DefaultCurrency = "USD";

    private static readonly HashSet<string> ContainerNodeTypes = new(StringComparer.OrdinalIgnoreCase) { "iteration", "loop" };

    /// <summary>Reads an LLMUsage object; null when <paramref name="usage"/> is not an object.</summary>
    public static UsageAmounts? ReadUsage(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var prompt = ReadLong(usage, "prompt_tokens");
        var completion = ReadLong(usage, "completion_tokens");
        var total = ReadLong(usage, "total_tokens");
        long input = prompt ?? 0;
        long output = completion ?? 0;
        if (prompt is null && completion is null && total is > 0)
        {
            // Only a total: book it as input so no token is lost.
            input = total.Value;
        }

        var cost = ReadPrice(usage, "total_price");
        if (cost is null)
        {
            var p = ReadPrice(usage, "prompt_price");
            var c = ReadPrice(usage, "completion_price");
            cost = p is null && c is null ? null : (p ?? 0m) + (c ?? 0m);
        }

        return new UsageAmounts(input, output, cost ?? 0m, ReadString(usage, "currency") ?? DefaultCurrency);
    }

    /// <summary>A message's usage: <c>metadata.usage</c>, else <c>message_tokens</c>/<c>answer_tokens</c> at cost 0.</summary>
    public static UsageAmounts MessageUsage(DifyMessage message)
    {
        if (message.Metadata.ValueKind == JsonValueKind.Object
            && message.Metadata.TryGetProperty("usage", out var usage)
            && ReadUsage(usage) is { } amounts)
        {
            return amounts;
        }

        return new UsageAmounts(message.MessageTokens ?? 0, message.AnswerTokens ?? 0, 0m, DefaultCurrency);
    }

    /// <summary>Message user: <c>from_end_user_id</c> → end_user, else <c>from_account_id</c> → account, else the conversation's, else unknown.</summary>
    public static (string Id, string Type) MessageUser(DifyMessage message, string? conversationEndUser, string? conversationAccount)
    {
        if (!string.IsNullOrEmpty(message.FromEndUserId))
        {
            return (message.FromEndUserId, "end_user");
        }

        if (!string.IsNullOrEmpty(message.FromAccountId))
        {
            return (message.FromAccountId, "account");
        }

        if (!string.IsNullOrEmpty(conversationEndUser))
        {
            return (conversationEndUser, "end_user");
        }

        if (!string.IsNullOrEmpty(conversationAccount))
        {
            return (conversationAccount, "account");
        }

        return (Unknown, Unknown);
    }

    /// <summary>Workflow run user: the log's <c>created_by_end_user</c> / <c>created_by_account</c>.</summary>
    public static (string Id, string Type) LogUser(DifyWorkflowAppLog log)
    {
        if (!string.IsNullOrEmpty(log.CreatedByEndUser?.Id))
        {
            return (log.CreatedByEndUser.Id, "end_user");
        }

        if (!string.IsNullOrEmpty(log.CreatedByAccount?.Id))
        {
            return (log.CreatedByAccount.Id, "account");
        }

        return (Unknown, Unknown);
    }

    /// <summary>A chat/agent-chat/completion message → one event (null when zero tokens and zero cost).</summary>
    public static UsageEvent? FromMessage(DifyAppInfo app, DifyMessage message, string? conversationEndUser, string? conversationAccount, DateTimeOffset occurredAt, TimeZoneInfo zone)
    {
        var amounts = MessageUsage(message);
        if (amounts.IsZero || string.IsNullOrEmpty(message.Id))
        {
            return null;
        }

        var (userId, userType) = MessageUser(message, conversationEndUser, conversationAccount);
        return Build(message.Id, message.Id, app, userId, userType, occurredAt, zone, app.Provider, app.Model, amounts);
    }

    /// <summary>
    /// An advanced-chat message without node usage: one event from the message's own usage,
    /// provider/model unknown (null when it has no tokens and no cost).
    /// </summary>
    public static UsageEvent? FromMessageFallback(DifyAppInfo app, DifyMessage message, string userId, string userType, DateTimeOffset occurredAt, TimeZoneInfo zone)
    {
        var amounts = MessageUsage(message);
        if (amounts.IsZero || string.IsNullOrEmpty(message.Id))
        {
            return null;
        }

        return Build(message.Id, message.Id, app, userId, userType, occurredAt, zone, null, null, amounts);
    }

    /// <summary>A workflow run whose nodes yield no usage but whose <c>total_tokens</c> is positive: one unattributed event.</summary>
    public static UsageEvent? FromRunFallback(DifyAppInfo app, DifyWorkflowRunSummary run, string userId, string userType, DateTimeOffset occurredAt, TimeZoneInfo zone)
    {
        var total = run.TotalTokens ?? 0;
        if (total <= 0 || string.IsNullOrEmpty(run.Id))
        {
            return null;
        }

        return Build(run.Id, run.Id, app, userId, userType, occurredAt, zone, null, null, new UsageAmounts(total, 0, 0m, DefaultCurrency));
    }

    /// <summary>
    /// The events of one run's node executions. Usage per node, in order: process_data.usage,
    /// outputs.usage, execution_metadata.agent_log.agent_backend.usage, execution_metadata.total_tokens;
    /// iteration/loop containers never count
    /// (their children are listed as their own nodes).
    /// </summary>
    public static List<UsageEvent> FromNodes(DifyAppInfo app, IEnumerable<DifyNodeExecution> nodes, string sourceId, string userId, string userType, DateTimeOffset occurredAt, TimeZoneInfo zone)
    {
        var events = new List<UsageEvent>();
        var position = 0;
        foreach (var node in nodes)
        {
            position++;
            if (node is null || ContainerNodeTypes.Contains(node.NodeType ?? string.Empty))
            {
                continue;
            }

            var usage = NodeUsage(node);
            if (usage is null || usage.Value.Amounts.IsZero)
            {
                continue;
            }

            var (amounts, provider, model) = usage.Value;

            var eventId = !string.IsNullOrEmpty(node.Id)
                ? node.Id
                : string.Create(CultureInfo.InvariantCulture, $"{sourceId}:{node.NodeId ?? "node"}:{position}");
            events.Add(Build(eventId, sourceId, app, userId, userType, occurredAt, zone, provider, model, amounts));
        }

        return events;
    }

    /// <summary>One node's usage and model, or null when it reports none.</summary>
    public static (UsageAmounts Amounts, string? Provider, string? Model)? NodeUsage(DifyNodeExecution node)
    {
        if (node.ProcessData.ValueKind == JsonValueKind.Object
            && node.ProcessData.TryGetProperty("usage", out var pu)
            && ReadUsage(pu) is { } processUsage)
        {
            return (processUsage, ReadString(node.ProcessData, "model_provider"), ReadString(node.ProcessData, "model_name"));
        }

        if (node.Outputs.ValueKind == JsonValueKind.Object
            && node.Outputs.TryGetProperty("usage", out var ou)
            && ReadUsage(ou) is { } outputUsage)
        {
            return (outputUsage, null, null);
        }

        if (node.ExecutionMetadata.ValueKind == JsonValueKind.Object
            && DifyAgentUsage.Nested(node.ExecutionMetadata) is { } nested)
        {
            return (nested, null, null);
        }

        if (node.ExecutionMetadata.ValueKind == JsonValueKind.Object
            && ReadLong(node.ExecutionMetadata, "total_tokens") is > 0 and var total)
        {
            var cost = ReadPrice(node.ExecutionMetadata, "total_price") ?? 0m;
            var currency = ReadString(node.ExecutionMetadata, "currency") ?? DefaultCurrency;
            return (new UsageAmounts(total, 0, cost, currency), null, null);
        }

        return null;
    }

    internal static UsageEvent Build(string eventId, string sourceId, DifyAppInfo app, string userId, string userType, DateTimeOffset occurredAt, TimeZoneInfo zone, string? provider, string? model, UsageAmounts amounts) => new()
    {
        EventId = eventId,
        SourceId = sourceId,
        AppId = app.Id,
        AppName = app.Name,
        AppMode = app.Mode,
        UserId = userId,
        UserType = userType,
        OccurredAt = occurredAt.ToUniversalTime(),
        UsageDate = UsageTime.LocalDate(occurredAt, zone),
        Provider = string.IsNullOrWhiteSpace(provider) ? Unknown : provider.Trim(),
        Model = string.IsNullOrWhiteSpace(model) ? Unknown : model.Trim(),
        InputTokens = amounts.Input,
        OutputTokens = amounts.Output,
        Cost = amounts.Cost,
        Currency = string.IsNullOrWhiteSpace(amounts.Currency) ? DefaultCurrency : amounts.Currency.Trim(),
    };

    /// <summary>The provider and model of a chat-mode app's <c>model_config.model</c>.</summary>
    public static (string? Provider, string? Model) AppModel(JsonElement modelConfig)
    {
        if (modelConfig.ValueKind != JsonValueKind.Object)
        {
            return (null, null);
        }

        if (modelConfig.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object)
        {
            return (ReadString(model, "provider"), ReadString(model, "name") ?? ReadString(model, "model"));
        }

        return (ReadString(modelConfig, "provider"), ReadString(modelConfig, "model"));
    }

    internal static long? ToLong(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt64(out var l) => l,
        JsonValueKind.Number => (long)Math.Round(value.GetDouble()),
        JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) => s,
        _ => null,
    };

    internal static long? ReadLong(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) ? ToLong(value) : null;

    internal static decimal? ReadPrice(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) ? DifyPrice.Parse(value) : null;

    internal static string? ReadString(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
