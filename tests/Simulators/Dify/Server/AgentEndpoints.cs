using System.Globalization;
using System.Text.Json.Nodes;

namespace Simulators.Dify;

/// <summary>
/// The console API of Dify 1.12+ that the simulator serves besides the classic endpoints: agent apps
/// (api/controllers/console/agent/roster.py, api/services/agent/observability_service.py) and
/// knowledge pipelines (<see cref="PipelineEndpoints"/>).
/// </summary>
internal static class CurrentDifyEndpoints
{
    public static void Map(RouteGroupBuilder api, DifySimulator sim)
    {
        AgentEndpoints.Map(api, sim);
        PipelineEndpoints.MapPipelines(api);
    }
}

/// <summary>Agent apps: roster list, monitoring logs and messages, statistics summary.</summary>
internal static partial class AgentEndpoints
{
    public static void Map(RouteGroupBuilder api, DifySimulator sim)
    {
        api.MapGet("/agent", (HttpContext ctx) =>
        {
            var (page, e1) = Query.Int(ctx, "page", 1, 1, 99999);
            var (limit, e2) = Query.Int(ctx, "limit", 20, 1, 100);
            if ((e1 ?? e2) is { } bad)
            {
                return bad;
            }

            var apps = ConsoleAuth.Principal(ctx).Workspace.Apps.Where(a => a.Mode == "agent" && !a.Archived && a.AgentId is not null)
                .OrderByDescending(a => a.CreatedAt).ThenBy(a => a.Id).ToList();
            var items = apps.Skip((page - 1) * limit).Take(limit).Select(a =>
            {
                // Roster-shaped: id = the agent id, app_id = the app id, no bound_agent_id.
                var o = Wire.App(a, sim.Options.AccountId, sim.Options.AccountName, detail: false);
                o.Remove("bound_agent_id");
                o["id"] = a.AgentId!.Value.ToString();
                o["app_id"] = a.Id.ToString();
                o["role"] = "Assistant";
                return (JsonNode)o;
            });
            return DifyResult.Json(Wire.Page(page, limit, apps.Count, items));
        });

        api.MapGet("/agent/{agentId}/logs", (HttpContext ctx, string agentId) =>
        {
            if (Resolve(ctx, agentId) is not { } app)
            {
                return AgentNotFound();
            }

            var (page, limit, start, end, bad) = Window(ctx, sim);
            if (bad is not null)
            {
                return bad;
            }

            var (webapp, workflow) = Sources(ctx);
            var rows = new List<(DateTimeOffset Created, DateTimeOffset Updated, string Id, JsonObject Row)>();
            if (webapp)
            {
                foreach (var conv in app.Conversations.Where(c => !c.IsDebugger))
                {
                    var messages = conv.Messages.Where(m => In(m.CreatedAt, start, end)).ToList();
                    if (messages.Count == 0)
                    {
                        continue;
                    }

                    var created = messages.Max(m => m.CreatedAt);
                    rows.Add((created, created, conv.Id.ToString(), new JsonObject
                    {
                        ["id"] = conv.Id.ToString(),
                        ["conversation_id"] = conv.Id.ToString(),
                        ["title"] = conv.Name,
                        ["end_user_id"] = conv.From.EndUser?.Id.ToString(),
                        ["message_count"] = messages.Count,
                        ["unread"] = true,
                        ["source"] = new JsonObject { ["id"] = $"webapp:{app.Id}", ["type"] = "webapp", ["app_id"] = app.Id.ToString(), ["app_name"] = app.Name },
                        ["status"] = "success",
                        ["created_at"] = Wire.Ts(created),
                        ["updated_at"] = Wire.Ts(created),
                    }));
                }
            }

            if (workflow)
            {
                foreach (var (wf, run, node) in BoundNodes(ctx, app).Where(x => In(NodeTime(x.Run, x.Node), start, end)))
                {
                    var at = NodeTime(run, node);
                    rows.Add((at, at, node.Id.ToString(), new JsonObject
                    {
                        ["id"] = node.Id.ToString(),
                        ["conversation_id"] = node.Id.ToString(),
                        ["title"] = node.Title,
                        ["message_count"] = 1,
                        ["source"] = new JsonObject { ["id"] = $"workflow:{wf.Id}:{wf.Id}:{run.Version}:{node.NodeId}", ["type"] = "workflow", ["app_id"] = wf.Id.ToString(), ["app_name"] = wf.Name },
                        ["status"] = "success",
                        ["created_at"] = Wire.Ts(at),
                        ["updated_at"] = Wire.Ts(at),
                    }));
                }
            }

            return DifyResult.Json(Paged(ctx, rows, page, limit));
        });

        api.MapGet("/agent/{agentId}/logs/{conversationId}/messages", (HttpContext ctx, string agentId, string conversationId) =>
        {
            if (Resolve(ctx, agentId) is not { } app || !Guid.TryParse(conversationId, out var convId))
            {
                return AgentNotFound();
            }

            var (page, limit, start, end, bad) = Window(ctx, sim);
            if (bad is not null)
            {
                return bad;
            }

            var (webapp, workflow) = Sources(ctx);
            var rows = new List<(DateTimeOffset Created, DateTimeOffset Updated, string Id, JsonObject Row)>();
            var conv = app.Conversations.FirstOrDefault(c => c.Id == convId);
            if (webapp && conv is not null && !conv.IsDebugger)
            {
                rows.AddRange(conv.Messages.Where(m => In(m.CreatedAt, start, end)).Select(m => (m.CreatedAt, m.CreatedAt, m.Id.ToString(), Message(app, conv, m))));
            }

            if (workflow)
            {
                foreach (var (_, run, node) in BoundNodes(ctx, app).Where(x => x.Node.Id == convId && In(NodeTime(x.Run, x.Node), start, end)))
                {
                    var at = NodeTime(run, node);
                    rows.Add((at, at, node.Id.ToString(), NodeMessage(run, node)));
                }
            }

            return DifyResult.Json(Paged(ctx, rows, page, limit));
        });

        api.MapGet("/agent/{agentId}/statistics/summary", (HttpContext ctx, string agentId) =>
        {
            if (Resolve(ctx, agentId) is not { } app)
            {
                return AgentNotFound();
            }

            var (start, e1) = Query.LocalMinute(ctx, "start", sim.AccountZone);
            var (end, e2) = Query.LocalMinute(ctx, "end", sim.AccountZone);
            if ((e1 ?? e2) is { } bad)
            {
                return bad;
            }

            var source = Query.Str(ctx, "source") ?? "all";
            var items = new List<(DateTimeOffset At, long Tokens, decimal Price)>();
            if (source is "all" or "webapp" or "debugger" or "service-api" or "api" or "web-app" or "explore" or "console")
            {
                // Dify's webapp statistics count every message of the app: debugger traffic included unless asked for alone.
                items.AddRange(app.Conversations
                    .Where(c => source is "all" or "webapp" || InvokeFrom(c) == Canonical(source))
                    .SelectMany(c => c.Messages)
                    .Select(m => (m.CreatedAt, (long)m.MessageTokens + m.AnswerTokens, m.DbTotalPrice)));
            }

            if (source is "all" or "workflow")
            {
                items.AddRange(BoundNodes(ctx, app).Select(x => (x.Run.CreatedAt, (long)(x.Node.Usage?.TotalTokens ?? 0), x.Node.Usage?.TotalPrice ?? 0m)));
            }

            var days = items.Where(i => In(i.At, start, end))
                .GroupBy(i => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(i.At, sim.AccountZone).DateTime))
                .OrderBy(g => g.Key)
                .Select(g => (JsonNode)new JsonObject
                {
                    ["date"] = g.Key.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    ["token_count"] = g.Sum(i => i.Tokens),
                    ["total_price"] = g.Sum(i => i.Price).ToString(CultureInfo.InvariantCulture),
                    ["currency"] = "USD",
                }).ToList();
            return DifyResult.Json(new JsonObject
            {
                ["source"] = source,
                ["summary"] = new JsonObject
                {
                    ["total_messages"] = items.Count(i => In(i.At, start, end)),
                    ["total_tokens"] = items.Where(i => In(i.At, start, end)).Sum(i => i.Tokens),
                    ["total_price"] = items.Where(i => In(i.At, start, end)).Sum(i => i.Price).ToString(CultureInfo.InvariantCulture),
                    ["currency"] = "USD",
                },
                ["charts"] = new JsonObject { ["token_usage"] = new JsonArray([.. days]) },
            });
        });
    }

    private static DifyResult AgentNotFound() => DifyResult.Error(404, "agent_not_found", "Agent not found.");

    private static SimApp? Resolve(HttpContext ctx, string agentId)
        => Guid.TryParse(agentId, out var id)
            ? ConsoleAuth.Principal(ctx).Workspace.Apps.FirstOrDefault(a => a.AgentId == id && !a.Archived)
            : null;

    /// <summary><c>sources</c> / <c>source</c>: webapp rows, workflow rows, or both (none or <c>all</c>).</summary>
    private static (bool Webapp, bool Workflow) Sources(HttpContext ctx)
    {
        var values = ctx.Request.Query["sources"].Concat(ctx.Request.Query["source"])
            .SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (values.Count == 0 || values.Contains("all"))
        {
            return (true, true);
        }

        return (values.Any(v => v.StartsWith("webapp", StringComparison.Ordinal)), values.Any(v => v.StartsWith("workflow", StringComparison.Ordinal)));
    }

    private static (int Page, int Limit, DateTimeOffset? Start, DateTimeOffset? End, DifyResult? Error) Window(HttpContext ctx, DifySimulator sim)
    {
        var (page, e1) = Query.Int(ctx, "page", 1, 1, 99999);
        var (limit, e2) = Query.Int(ctx, "limit", 20, 1, 100);
        var (start, e3) = Query.LocalMinute(ctx, "start", sim.AccountZone);
        var (end, e4) = Query.LocalMinute(ctx, "end", sim.AccountZone);
        var sort = Query.Str(ctx, "sort_by") ?? "updated_at";
        var order = Query.Str(ctx, "sort_order") ?? "desc";
        var err = e1 ?? e2 ?? e3 ?? e4
            ?? (sort is "created_at" or "updated_at" ? null : DifyResult.InvalidParam("sort_by must be created_at or updated_at", "sort_by"))
            ?? (order is "asc" or "desc" ? null : DifyResult.InvalidParam("sort_order must be asc or desc", "sort_order"));
        return (page, limit, start, end, err);
    }

    private static bool In(DateTimeOffset at, DateTimeOffset? start, DateTimeOffset? end)
        => (start is null || at >= start) && (end is null || at < end);

    private static JsonObject Paged(HttpContext ctx, List<(DateTimeOffset Created, DateTimeOffset Updated, string Id, JsonObject Row)> rows, int page, int limit)
    {
        var byCreated = Query.Str(ctx, "sort_by") == "created_at";
        var ascending = Query.Str(ctx, "sort_order") == "asc";
        var sorted = rows.OrderBy(r => byCreated ? r.Created : r.Updated).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();
        if (!ascending)
        {
            sorted.Reverse();
        }

        var skip = (page - 1) * limit;
        return new JsonObject
        {
            ["data"] = new JsonArray([.. sorted.Skip(skip).Take(limit).Select(r => (JsonNode)r.Row)]),
            ["page"] = page,
            ["limit"] = limit,
            ["total"] = sorted.Count,
            ["has_more"] = skip + limit < sorted.Count,
        };
    }

    /// <summary>The message's invoke_from, as the log's <c>source</c> writes it.</summary>
    private static string InvokeFrom(SimConversation c)
        => c.IsDebugger ? "debugger" : c.From.EndUser is null ? "explore" : c.From.EndUser.Type == "browser" ? "web-app" : "service-api";

    private static string Canonical(string source) => source switch
    {
        "api" => "service-api",
        "console" => "explore",
        _ => source,
    };
}
