using System.Text.Json.Nodes;

namespace Simulators.Dify;

/// <summary>workflow-runs, advanced-chat/workflow-runs, run detail, node-executions, workflow-app-logs (docs/dify.md).</summary>
internal static class WorkflowEndpoints
{
    private static readonly string[] RunModes = ["workflow", "advanced-chat"];

    public static void Map(RouteGroupBuilder api, DifySimulator sim)
    {
        api.MapGet("/apps/{appId}/workflow-runs", (HttpContext ctx, string appId) => Runs(ctx, sim, appId, RunModes, advancedChat: false));
        api.MapGet("/apps/{appId}/advanced-chat/workflow-runs", (HttpContext ctx, string appId) => Runs(ctx, sim, appId, ["advanced-chat"], advancedChat: true));
        api.MapGet("/apps/{appId}/workflow-runs/{runId}", (HttpContext ctx, string appId, string runId) =>
        {
            var (app, err) = sim.Index.App(ctx, appId, RunModes);
            if (app is null)
            {
                return err!;
            }

            return Guid.TryParse(runId, out var id) && sim.Index.Runs.TryGetValue(id, out var hit) && hit.App == app
                ? DifyResult.Json(Wire.RunDetail(hit.Run))
                : Guid.TryParse(runId, out _) ? DifyResult.Error(404, "not_found", "Workflow run not found") : DifyResult.NotFound();
        });
        api.MapGet("/apps/{appId}/workflow-runs/{runId}/node-executions", (HttpContext ctx, string appId, string runId) =>
        {
            var (app, err) = sim.Index.App(ctx, appId, RunModes);
            if (app is null)
            {
                return err!;
            }

            if (!Guid.TryParse(runId, out var id))
            {
                return DifyResult.NotFound();
            }

            // Unknown run → 200 with an empty list, not 404.
            var nodes = sim.Index.Runs.TryGetValue(id, out var hit) && hit.App == app
                ? hit.Run.Nodes.OrderBy(n => n.Index).Select(n => (JsonNode)Wire.Node(hit.Run, n, sim.Options.HideNestedAgentUsage, sim.Options.MalformedNestedAgentUsage))
                : [];
            return DifyResult.Json(new JsonObject { ["data"] = new JsonArray([.. nodes]) });
        });
        api.MapGet("/apps/{appId}/workflows/draft", (HttpContext ctx, string appId) =>
        {
            var (app, err) = sim.Index.App(ctx, appId, RunModes);
            return app is null ? err! : DifyResult.Json(new JsonObject
            {
                ["id"] = app.Id.ToString(),
                ["graph"] = new JsonObject { ["nodes"] = new JsonArray(), ["edges"] = new JsonArray() },
                ["features"] = new JsonObject(),
                ["hash"] = "0",
                ["created_at"] = Wire.Ts(app.CreatedAt),
                ["updated_at"] = Wire.Ts(app.CreatedAt),
            });
        });
        api.MapGet("/apps/{appId}/workflow-app-logs", (HttpContext ctx, string appId) => AppLogs(ctx, sim, appId));
    }

    private static DifyResult Runs(HttpContext ctx, DifySimulator sim, string appId, string[] modes, bool advancedChat)
    {
        var (app, err) = sim.Index.App(ctx, appId, modes);
        if (app is null)
        {
            return err!;
        }

        var (limit, e1) = Query.Int(ctx, "limit", 20, 1, 100);
        if (e1 is not null)
        {
            return e1;
        }

        // 1.9.x: always debug runs; newer: triggered_from (default debugging).
        var triggeredFrom = sim.Options.SupportsTriggeredFromFilter ? Query.Str(ctx, "triggered_from") ?? "debugging" : "debugging";
        var runs = app.Runs.Where(r => r.TriggeredFrom == triggeredFrom).OrderByDescending(r => r.CreatedAt).ThenBy(r => r.Id).ToList();
        var (lastId, okLast) = Query.Uuid(Query.Str(ctx, "last_id"));
        if (!okLast)
        {
            return DifyResult.InvalidParam("last_id: Input should be a valid UUID", "last_id");
        }

        if (lastId is { } lid)
        {
            var last = app.Runs.FirstOrDefault(r => r.Id == lid);
            if (last is null)
            {
                return DifyResult.InvalidParam("Last workflow run not exists", "last_id");
            }

            runs = [.. runs.Where(r => r.CreatedAt < last.CreatedAt)];
        }

        var page = runs.Take(limit).ToList();
        return DifyResult.Json(new JsonObject
        {
            ["limit"] = limit,
            ["has_more"] = runs.Count > limit,
            ["data"] = new JsonArray([.. page.Select(r => (JsonNode)Wire.RunListItem(r, sim.Options.SupportsTriggeredFromFilter, advancedChat))]),
        });
    }

    private static DifyResult AppLogs(HttpContext ctx, DifySimulator sim, string appId)
    {
        var (app, err) = sim.Index.App(ctx, appId, "workflow");
        if (app is null)
        {
            return err!;
        }

        var (page, e1) = Query.Int(ctx, "page", 1, 1, 99999);
        var (limit, e2) = Query.Int(ctx, "limit", 20, 1, 100);
        var (after, e3) = Query.Iso(ctx, "created_at__after");
        var (before, e4) = Query.Iso(ctx, "created_at__before");
        if ((e1 ?? e2 ?? e3 ?? e4) is { } bad)
        {
            return bad;
        }

        var status = Query.Str(ctx, "status");
        var sorted = sim.Views.Logs(app);
        if (status is not null)
        {
            sorted = [.. sorted.Where(r => r.Status == status)];
        }

        var lo = after is { } a ? SortedViews.LowerBound(sorted, r => r.LogCreatedAt, a) : 0;
        var hi = before is { } b ? SortedViews.LowerBound(sorted, r => r.LogCreatedAt, b, strict: true) : sorted.Length;
        hi = Math.Max(lo, hi);
        var items = SortedViews.Page(sorted, lo, hi, page, limit, descending: true).Select(r => (JsonNode)Wire.AppLog(r));
        return DifyResult.Json(Wire.Page(page, limit, hi - lo, items));
    }
}
