using System.Text.Json.Nodes;

namespace Simulators.Dify;

/// <summary>chat-conversations, chat-messages, messages/{id}, completion-conversations (docs/dify.md).</summary>
internal static class ConversationEndpoints
{
    private static readonly string[] ChatModes = ["chat", "agent-chat", "advanced-chat"];
    private static readonly string[] SortValues = ["created_at", "-created_at", "updated_at", "-updated_at"];

    public static void Map(RouteGroupBuilder api, DifySimulator sim)
    {
        api.MapGet("/apps/{appId}/chat-conversations", (HttpContext ctx, string appId) => List(ctx, sim, appId, completion: false));
        api.MapGet("/apps/{appId}/completion-conversations", (HttpContext ctx, string appId) => List(ctx, sim, appId, completion: true));
        api.MapGet("/apps/{appId}/chat-conversations/{conversationId}", (HttpContext ctx, string appId, string conversationId)
            => Detail(ctx, sim, appId, conversationId, completion: false));
        api.MapGet("/apps/{appId}/completion-conversations/{conversationId}", (HttpContext ctx, string appId, string conversationId)
            => Detail(ctx, sim, appId, conversationId, completion: true));
        api.MapGet("/apps/{appId}/chat-messages", (HttpContext ctx, string appId) => Messages(ctx, sim, appId));
        api.MapGet("/apps/{appId}/messages/{messageId}", (HttpContext ctx, string appId, string messageId) =>
        {
            var (app, err) = sim.Index.App(ctx, appId);
            if (app is null)
            {
                return err!;
            }

            return Guid.TryParse(messageId, out var id) && sim.Index.Messages.TryGetValue(id, out var hit) && hit.App == app
                ? DifyResult.Json(Wire.Message(hit.Conversation, hit.Message))
                : DifyResult.Error(404, "not_found", "Message Not Exists.");
        });
    }

    private static DifyResult? EditorOnly(HttpContext ctx)
        => ConsoleAuth.Principal(ctx).Role is "owner" or "admin" or "editor"
            ? null
            : DifyResult.Error(403, "forbidden", "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.");

    private static DifyResult List(HttpContext ctx, DifySimulator sim, string appId, bool completion)
    {
        var (app, err) = completion ? sim.Index.App(ctx, appId, "completion") : sim.Index.App(ctx, appId, ChatModes);
        if (app is null)
        {
            return err!;
        }

        if (EditorOnly(ctx) is { } forbidden)
        {
            return forbidden;
        }

        var (page, e1) = Query.Int(ctx, "page", 1, 1, 99999);
        var (limit, e2) = Query.Int(ctx, "limit", 20, 1, 100);
        var (start, e3) = Query.LocalMinute(ctx, "start", sim.AccountZone);
        var (end, e4) = Query.LocalMinute(ctx, "end", sim.AccountZone);
        if ((e1 ?? e2 ?? e3 ?? e4) is { } bad)
        {
            return bad;
        }

        // completion: filter and order on created_at; chat: sort_by decides (default -updated_at). last_id is ignored.
        var sort = completion ? "-created_at" : Query.Str(ctx, "sort_by") ?? "-updated_at";
        if (!SortValues.Contains(sort))
        {
            return DifyResult.InvalidParam($"sort_by: Input should be {string.Join(", ", SortValues)}", "sort_by");
        }

        var byUpdated = sort.EndsWith("updated_at", StringComparison.Ordinal);
        Func<SimConversation, DateTimeOffset> key = byUpdated ? c => c.UpdatedAt : c => c.CreatedAt;
        var sorted = sim.Views.Conversations(app, byUpdated);
        var lo = start is { } st ? SortedViews.LowerBound(sorted, key, st) : 0;
        var hi = end is { } en ? SortedViews.LowerBound(sorted, key, en.AddSeconds(59), strict: true) : sorted.Length; // "end" covers its whole minute
        hi = Math.Max(lo, hi);
        var items = SortedViews.Page(sorted, lo, hi, page, limit, sort.StartsWith('-'))
            .Select(c => (JsonNode)(completion ? Wire.CompletionConversation(c) : Wire.ChatConversation(c)));
        return DifyResult.Json(Wire.Page(page, limit, hi - lo, items));
    }

    private static DifyResult Detail(HttpContext ctx, DifySimulator sim, string appId, string conversationId, bool completion)
    {
        var (app, err) = completion ? sim.Index.App(ctx, appId, "completion") : sim.Index.App(ctx, appId, ChatModes);
        if (app is null)
        {
            return err!;
        }

        if (!Guid.TryParse(conversationId, out var id) || !sim.Index.Conversations.TryGetValue(id, out var hit) || hit.App != app)
        {
            return DifyResult.Error(404, "not_found", "Conversation Not Exists.");
        }

        var conv = hit.Conversation;
        var now = sim.Options.Clock.GetUtcNow();
        conv.ReadAt = now; // side effect: marks read
        if (sim.Options.DetailBumpsUpdatedAt)
        {
            conv.UpdatedAtOverride = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, TimeSpan.Zero);
            sim.Views.InvalidateConversations(app);
        }

        return DifyResult.Json(completion ? Wire.CompletionDetail(conv) : Wire.ChatConversation(conv));
    }

    /// <summary>first_id paging backwards: newest page first, items oldest→newest, has_more only when full.</summary>
    private static DifyResult Messages(HttpContext ctx, DifySimulator sim, string appId)
    {
        var (app, err) = sim.Index.App(ctx, appId, ChatModes);
        if (app is null)
        {
            return err!;
        }

        if (EditorOnly(ctx) is { } forbidden)
        {
            return forbidden;
        }

        var (limit, e1) = Query.Int(ctx, "limit", 20, 1, 100);
        if (e1 is not null)
        {
            return e1;
        }

        var (convId, okConv) = Query.Uuid(Query.Str(ctx, "conversation_id"));
        var (firstId, okFirst) = Query.Uuid(Query.Str(ctx, "first_id"));
        if (convId is null || !okConv)
        {
            return DifyResult.InvalidParam("conversation_id: Input should be a valid UUID", "conversation_id");
        }

        if (!okFirst)
        {
            return DifyResult.InvalidParam("first_id: Input should be a valid UUID", "first_id");
        }

        if (!sim.Index.Conversations.TryGetValue(convId.Value, out var hit) || hit.App != app)
        {
            return DifyResult.Error(404, "not_found", "Conversation Not Exists.");
        }

        var conv = hit.Conversation;
        IEnumerable<SimMessage> older = conv.Messages;
        if (firstId is { } fid)
        {
            var first = conv.Messages.FirstOrDefault(m => m.Id == fid);
            if (first is null)
            {
                return DifyResult.Error(404, "not_found", "First message not found");
            }

            older = conv.Messages.Where(m => m.CreatedAt < first.CreatedAt && m.Id != first.Id);
        }

        var page = older.OrderByDescending(m => m.CreatedAt).Take(limit).ToList();
        var hasMore = false;
        if (page.Count == limit)
        {
            var oldest = page[^1];
            hasMore = conv.Messages.Any(m => m.CreatedAt < oldest.CreatedAt && m.Id != oldest.Id);
        }

        page.Reverse();
        return DifyResult.Json(new JsonObject
        {
            ["limit"] = limit,
            ["has_more"] = hasMore,
            ["data"] = new JsonArray([.. page.Select(m => (JsonNode)Wire.Message(conv, m))]),
        });
    }
}
