namespace Simulators.Dify;

/// <summary>Id lookups over every workspace, built once at start.</summary>
internal sealed class SimIndex
{
    public SimIndex(IEnumerable<SimWorkspace> workspaces)
    {
        foreach (var ws in workspaces)
        {
            foreach (var app in ws.Apps)
            {
                Apps[app.Id] = (ws, app);
                foreach (var c in app.Conversations)
                {
                    Conversations[c.Id] = (app, c);
                    foreach (var m in c.Messages)
                    {
                        Messages[m.Id] = (app, c, m);
                    }
                }

                foreach (var r in app.Runs)
                {
                    Runs[r.Id] = (app, r);
                }
            }
        }
    }

    public Dictionary<Guid, (SimWorkspace Workspace, SimApp App)> Apps { get; } = [];

    public Dictionary<Guid, (SimApp App, SimConversation Conversation)> Conversations { get; } = [];

    public Dictionary<Guid, (SimApp App, SimConversation Conversation, SimMessage Message)> Messages { get; } = [];

    public Dictionary<Guid, (SimApp App, SimWorkflowRun Run)> Runs { get; } = [];

    /// <summary>The app of the principal's workspace, or Dify's 404s (non-UUID → not_found; other → app_not_found).</summary>
    public (SimApp? App, DifyResult? Error) App(HttpContext ctx, string rawId, params string[] modes)
    {
        if (!Guid.TryParse(rawId, out var id))
        {
            return (null, DifyResult.NotFound());
        }

        var p = ConsoleAuth.Principal(ctx);
        if (!Apps.TryGetValue(id, out var hit) || hit.Workspace != p.Workspace || hit.App.Archived)
        {
            return (null, DifyResult.AppNotFound());
        }

        if (modes.Length > 0 && !modes.Contains(hit.App.ReportedMode))
        {
            return (null, DifyResult.Error(404, "app_not_found", "App mode is not in the supported list: {" + string.Join(", ", modes.Select(m => $"<AppMode.{m.ToUpperInvariant().Replace('-', '_')}: '{m}'>")) + "}"));
        }

        return (hit.App, null);
    }
}
