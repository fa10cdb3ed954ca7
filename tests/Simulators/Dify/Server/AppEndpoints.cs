using System.Text.Json.Nodes;

namespace Simulators.Dify;

/// <summary><c>/apps</c> and <c>/apps/{id}</c> (docs/dify.md).</summary>
internal static class AppEndpoints
{
    private static readonly string[] KnownModeFilters = ["completion", "chat", "advanced-chat", "workflow", "agent-chat", "channel", "all"];

    public static void Map(RouteGroupBuilder api, DifySimulator sim)
    {
        api.MapGet("/apps", (HttpContext ctx) =>
        {
            var (page, e1) = Query.Int(ctx, "page", 1, 1, 99999);
            var (limit, e2) = Query.Int(ctx, "limit", 20, 1, 100);
            if ((e1 ?? e2) is { } err)
            {
                return err;
            }

            var mode = Query.Str(ctx, "mode") ?? "all";
            var current = sim.Options.ServesCurrentDifyApi;
            if (!KnownModeFilters.Contains(mode) && !(current && mode == "agent"))
            {
                return DifyResult.InvalidParam($"mode: Input should be {string.Join(", ", KnownModeFilters)}", "mode");
            }

            var name = Query.Str(ctx, "name");
            var p = ConsoleAuth.Principal(ctx);
            var apps = p.Workspace.Apps
                // 1.12+: the default list leaves agent apps out; mode=agent lists them (with bound_agent_id).
                .Where(a => !a.Archived && (mode == "all" ? !(current && a.Mode == "agent") : a.Mode == mode))
                .Where(a => name is null || a.Name.Contains(name.Length > 30 ? name[..30] : name, StringComparison.OrdinalIgnoreCase))
                .OrderByDescending(a => a.CreatedAt).ThenBy(a => a.Id)
                .ToList();
            var owner = sim.Options;
            return DifyResult.Json(Wire.Page(page, limit, apps.Count, apps.Skip((page - 1) * limit).Take(limit).Select(a => Wire.App(a, owner.AccountId, owner.AccountName, detail: false))));
        });

        api.MapGet("/apps/{appId}", (HttpContext ctx, string appId) =>
        {
            var (app, err) = sim.Index.App(ctx, appId);
            return app is null ? err! : DifyResult.Json(Wire.App(app, sim.Options.AccountId, sim.Options.AccountName, detail: true));
        });

        StatisticsEndpoints.Map(api, sim);
    }
}

/// <summary>Daily statistics in the account time zone (docs/dify.md).</summary>
internal static class StatisticsEndpoints
{
    public static void Map(RouteGroupBuilder api, DifySimulator sim)
    {
        api.MapGet("/apps/{appId}/statistics/token-costs", (HttpContext ctx, string appId) =>
        {
            var (app, err) = sim.Index.App(ctx, appId);
            if (app is null)
            {
                return err!;
            }

            var (zone, start, end, rangeErr) = Range(ctx, sim);
            if (rangeErr is not null)
            {
                return rangeErr;
            }

            var rows = app.Conversations
                .Where(c => !c.IsDebugger)
                .SelectMany(c => c.Messages)
                .Where(m => (start is null || m.CreatedAt >= start) && (end is null || m.CreatedAt < end))
                .GroupBy(m => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(m.CreatedAt, zone).DateTime))
                .OrderBy(g => g.Key)
                .Select(g => (JsonNode)new JsonObject
                {
                    ["date"] = g.Key.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                    ["token_count"] = g.Sum(m => (long)m.MessageTokens + m.AnswerTokens),
                    ["total_price"] = Wire.Price(g.Sum(m => m.DbTotalPrice), SimPriceFormat.Fixed),
                    ["currency"] = "USD",
                });
            return DifyResult.Json(new JsonObject { ["data"] = new JsonArray([.. rows]) });
        });

        api.MapGet("/apps/{appId}/workflow/statistics/token-costs", (HttpContext ctx, string appId) =>
        {
            var (app, err) = sim.Index.App(ctx, appId, "workflow", "advanced-chat");
            if (app is null)
            {
                return err!;
            }

            var (zone, start, end, rangeErr) = Range(ctx, sim);
            if (rangeErr is not null)
            {
                return rangeErr;
            }

            var rows = app.Runs
                .Where(r => r.TriggeredFrom == "app-run" && (start is null || r.CreatedAt >= start) && (end is null || r.CreatedAt < end))
                .GroupBy(r => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(r.CreatedAt, zone).DateTime))
                .OrderBy(g => g.Key)
                .Select(g => (JsonNode)new JsonObject
                {
                    ["date"] = g.Key.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                    ["token_count"] = g.Sum(r => (long)r.TotalTokens),
                });
            return DifyResult.Json(new JsonObject { ["data"] = new JsonArray([.. rows]) });
        });
    }

    private static (TimeZoneInfo Zone, DateTimeOffset? Start, DateTimeOffset? End, DifyResult? Error) Range(HttpContext ctx, DifySimulator sim)
    {
        var zone = sim.AccountZone;
        var (start, e1) = Query.LocalMinute(ctx, "start", zone);
        var (end, e2) = Query.LocalMinute(ctx, "end", zone);
        if ((e1 ?? e2) is { } err)
        {
            return (zone, null, null, err);
        }

        if (sim.Options.RejectReversedRange && start > end)
        {
            return (zone, null, null, DifyResult.InvalidParam("Start date must be before end date", "start"));
        }

        return (zone, start, end, null);
    }
}
