using System.Text.Json;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Dify;

/// <summary>Chat, agent-chat and advanced-chat apps: conversations, their messages, and the node runs behind advanced-chat messages.</summary>
public sealed partial class DifyUsageSource
{
    /// <summary>The conversation listing's <c>start</c>: read start − 1 h as wall-clock time in the account zone.</summary>
    private static string ConversationStart(AppScope scope)
    {
        var start = scope.ReadFrom - FilterMargin;
        return scope.Run.AccountZone is { } zone
            ? DifyConsoleClient.WallClock(start, zone)
            : DifyConsoleClient.WallClock(start - UnknownZoneMargin, TimeZoneInfo.Utc);
    }

    private async Task ExtractChatAsync(AppScope scope, bool advanced, CancellationToken cancellationToken)
    {
        var conversations = client.ListConversationsAsync(scope.App.Id, completion: false, ConversationStart(scope), cancellationToken);
        await Parallel.ForEachAsync(conversations, Parallelism(cancellationToken), async (conversation, ct) =>
        {
            if (string.IsNullOrEmpty(conversation.Id))
            {
                return;
            }

            try
            {
                await ExtractConversationAsync(scope, conversation, advanced, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DifyApiException or JsonException && !ct.IsCancellationRequested)
            {
                // The conversation's messages can lie anywhere between its creation and last update.
                DifyLog.ItemFailed(logger, scope.App.Name, scope.App.Id, "conversation", conversation.Id, ex.Message);
                scope.Fail(conversation.CreatedAt ?? scope.ReadFrom, conversation.UpdatedAt ?? scope.Run.Window.End, $"conversation {conversation.Id}: {ex.Message}");
            }
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Pages a conversation's messages backwards (first_id) until they are older than the read start.
    /// Advanced-chat: the node-executions calls of a page's messages all start at once (the shared
    /// concurrency limiter bounds what is really in flight) while the next page is fetched; events
    /// are then stored in page order, message by message, so the result never depends on timing.
    /// </summary>
    private async Task ExtractConversationAsync(AppScope scope, DifyConversation conversation, bool advanced, CancellationToken cancellationToken)
    {
        string? firstId = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<(string MessageId, Task<IReadOnlyList<UsageEvent>?> Events)>? previous = null;
        try
        {
            while (true)
            {
                var page = await client.GetMessagesPageAsync(scope.App.Id, conversation.Id!, firstId, cancellationToken).ConfigureAwait(false);
                if (previous is not null)
                {
                    await StoreAsync(scope, previous, cancellationToken).ConfigureAwait(false);
                    previous = null;
                }

                var data = page.Data ?? [];
                var pending = new List<(string, Task<IReadOnlyList<UsageEvent>?>)>(data.Count);
                foreach (var message in data)
                {
                    var at = message.CreatedAt ?? conversation.CreatedAt;
                    if (string.IsNullOrEmpty(message.Id) || at is null || !scope.InRange(at.Value))
                    {
                        continue;
                    }

                    var events = advanced
                        ? AdvancedChatEventsAsync(scope, conversation, message, at.Value, cancellationToken)
                        : Task.FromResult<IReadOnlyList<UsageEvent>?>(Single(DifyUsageMapper.FromMessage(scope.App, message, conversation.FromEndUserId, conversation.FromAccountId, at.Value, scope.Run.Window.Zone)));
                    pending.Add((message.Id, events));
                }

                previous = pending;
                if (data.Count == 0 || page.HasMore != true)
                {
                    return;
                }

                // Items are oldest→newest; the oldest one is the cursor to the previous page. Chosen by
                // time rather than position so a server ordering the page differently still advances.
                var oldest = data.Where(m => m.Id is not null).OrderBy(m => m.CreatedAt ?? DateTimeOffset.MaxValue).FirstOrDefault();
                if (oldest?.Id is null || !seen.Add(oldest.Id) || (oldest.CreatedAt is { } t && t < scope.ReadFrom))
                {
                    return;
                }

                firstId = oldest.Id;
            }
        }
        finally
        {
            if (previous is not null)
            {
                // Normal end: store the last page. After a failure: let its node calls finish (they
                // record their own failures) and keep what they read, as before.
                await StoreAsync(scope, previous, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Awaits a page's per-message event lists and queues them in message order.</summary>
    private static async Task StoreAsync(AppScope scope, List<(string MessageId, Task<IReadOnlyList<UsageEvent>?> Events)> messages, CancellationToken cancellationToken)
    {
        foreach (var (messageId, task) in messages)
        {
            if (await task.ConfigureAwait(false) is { } events)
            {
                await scope.AddAsync(messageId, events, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Advanced-chat: one event per node with usage of the message's run, attributed to the
    /// message's user and time; a message without node usage falls back to its own usage.
    /// Null = the run could not be read (the day is marked incomplete; stored data is kept).
    /// </summary>
    private async Task<IReadOnlyList<UsageEvent>?> AdvancedChatEventsAsync(AppScope scope, DifyConversation conversation, DifyMessage message, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var (userId, userType) = DifyUsageMapper.MessageUser(message, conversation.FromEndUserId, conversation.FromAccountId);
        var events = new List<UsageEvent>();
        if (!string.IsNullOrEmpty(message.WorkflowRunId))
        {
            try
            {
                var nodes = await client.GetNodeExecutionsAsync(scope.App.Id, message.WorkflowRunId, cancellationToken).ConfigureAwait(false);
                events = DifyUsageMapper.FromNodes(scope.App, nodes, message.Id!, userId, userType, at, scope.Run.Window.Zone);
            }
            catch (Exception ex) when (ex is DifyApiException or JsonException && !cancellationToken.IsCancellationRequested)
            {
                DifyLog.ItemFailed(logger, scope.App.Name, scope.App.Id, "workflow run", message.WorkflowRunId, ex.Message);
                scope.Fail(at, at, $"run {message.WorkflowRunId} of message {message.Id}: {ex.Message}");
                return null;
            }
        }

        if (events.Count == 0 && DifyUsageMapper.FromMessageFallback(scope.App, message, userId, userType, at, scope.Run.Window.Zone) is { } fallback)
        {
            events.Add(fallback);
        }

        return events;
    }
}
