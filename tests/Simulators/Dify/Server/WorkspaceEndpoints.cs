using System.Text.Json;
using System.Text.Json.Nodes;

namespace Simulators.Dify;

/// <summary>account/profile, workspaces, workspaces/switch (docs/dify.md).</summary>
internal static class WorkspaceEndpoints
{
    public static void Map(RouteGroupBuilder api, DifySimulator sim)
    {
        api.MapGet("/account/profile", () =>
        {
            var o = sim.Options;
            return DifyResult.Json(new JsonObject
            {
                ["id"] = o.AccountId.ToString(),
                ["name"] = o.AccountName,
                ["avatar"] = null,
                ["avatar_url"] = null,
                ["email"] = o.Email,
                ["is_password_set"] = true,
                ["interface_language"] = "en-US",
                ["interface_theme"] = "light",
                ["timezone"] = o.AccountTimeZone,
                ["last_login_at"] = o.Clock.GetUtcNow().ToUnixTimeSeconds(),
                ["last_login_ip"] = "127.0.0.1",
                ["created_at"] = 1748000000,
            });
        });
        api.MapGet("/workspaces", (HttpContext ctx) =>
        {
            var current = ConsoleAuth.Principal(ctx).Workspace;
            return DifyResult.Json(new JsonObject
            {
                ["workspaces"] = new JsonArray([.. sim.AllWorkspaces.Select(w => (JsonNode)Workspace(w, w == current))]),
            });
        });
        api.MapGet("/workspaces/current", (HttpContext ctx) => DifyResult.Json(Workspace(ConsoleAuth.Principal(ctx).Workspace, true)));
        api.MapPost("/workspaces/switch", async (HttpContext ctx) =>
        {
            string? id = null;
            try
            {
                id = (await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted).ConfigureAwait(false))?["tenant_id"]?.GetValue<string>();
            }
            catch (JsonException)
            {
                // treated as a missing tenant_id
            }

            var ws = sim.AllWorkspaces.FirstOrDefault(w => w.Id.ToString().Equals(id, StringComparison.OrdinalIgnoreCase));
            if (ws is null)
            {
                return DifyResult.Error(403, "account_not_link_tenant", "Account not link tenant");
            }

            sim.Auth.CurrentWorkspace = ws;
            return DifyResult.Json(new JsonObject { ["result"] = "success", ["new_tenant"] = Workspace(ws, true) });
        });
    }

    private static JsonObject Workspace(SimWorkspace w, bool current) => new()
    {
        ["id"] = w.Id.ToString(),
        ["name"] = w.Name,
        ["plan"] = "sandbox",
        ["status"] = "normal",
        ["created_at"] = w.CreatedAt.ToUnixTimeSeconds(),
        ["current"] = current,
    };
}
