namespace Simulators.Dify;

/// <summary>The <c>login_required</c> chain of Dify's api/controllers/console/wraps.py as an endpoint filter.</summary>
internal sealed class ConsoleAuth(DifySimulator sim) : IEndpointFilter
{
    private const string PrincipalKey = "sim.principal";

    public static SimPrincipal Principal(HttpContext ctx) => (SimPrincipal)ctx.Items[PrincipalKey]!;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var ctx = context.HttpContext;
        var (principal, error) = Authenticate(ctx);
        if (error is not null)
        {
            sim.Counters.Rejected();
            return error;
        }

        ctx.Items[PrincipalKey] = principal;
        return await next(context).ConfigureAwait(false);
    }

    private (SimPrincipal?, DifyResult?) Authenticate(HttpContext ctx)
    {
        var o = sim.Options;
        var now = o.Clock.GetUtcNow(); // one "now" per request
        var bearer = BearerToken(ctx);
        if (o.AdminApiKey is { Length: > 0 } key && bearer == key)
        {
            var wsId = ctx.Request.Headers["X-WORKSPACE-ID"].ToString();
            var ws = sim.AllWorkspaces.FirstOrDefault(w => w.Id.ToString().Equals(wsId, StringComparison.OrdinalIgnoreCase));
            if (ws is null)
            {
                return (null, DifyResult.Error(401, "unauthorized", "Unauthorized."));
            }

            if (o.UsesCookies && !o.AdminKeyCsrfExempt && CheckCsrf(ctx, o.AccountId, now) is { } csrfError)
            {
                return (null, csrfError);
            }

            return (new SimPrincipal(o.AccountId, ws, "owner", true), null);
        }

        // The cookie wins over the header: a stale cookie with a fresh Bearer fails.
        var token = o.UsesCookies && ctx.Request.Cookies.TryGetValue(o.CookieName("access_token"), out var c) && c.Length > 0 ? c : bearer;
        if (string.IsNullOrEmpty(token))
        {
            return (null, DifyResult.Unauthorized("Invalid Authorization token."));
        }

        var (payload, err) = Jwt.Verify(token, o.SecretKey, now);
        if (payload is null)
        {
            return (null, DifyResult.Unauthorized(err!));
        }

        if (payload["token_source"] is not null || payload["user_id"]?.GetValue<string>() != o.AccountId.ToString())
        {
            return (null, DifyResult.Error(401, "unauthorized", "Unauthorized."));
        }

        // Dify whitelists the draft endpoint from CSRF (check_csrf_token exemptions).
        var exempt = ctx.Request.Path.Value?.EndsWith("/workflows/draft", StringComparison.Ordinal) == true;
        if (o.UsesCookies && !exempt && CheckCsrf(ctx, o.AccountId, now) is { } csrf)
        {
            return (null, csrf);
        }

        return (new SimPrincipal(o.AccountId, sim.Auth.CurrentWorkspace, o.AccountRole, false), null);
    }

    private DifyResult? CheckCsrf(HttpContext ctx, Guid accountId, DateTimeOffset now)
    {
        var o = sim.Options;
        var header = ctx.Request.Headers["X-CSRF-Token"].ToString();
        var ok = header.Length > 0
            && ctx.Request.Cookies.TryGetValue(o.CookieName("csrf_token"), out var cookie)
            && cookie == header
            && Jwt.Verify(header, o.SecretKey, now).Payload is { } p
            && p[o.CsrfAccountClaim]?.GetValue<string>() == accountId.ToString();
        return ok ? null : DifyResult.Unauthorized("CSRF token is missing or invalid.");
    }

    /// <summary><c>Authorization: Bearer x</c> (scheme case-insensitive); anything else is ignored.</summary>
    public static string? BearerToken(HttpContext ctx)
    {
        var h = ctx.Request.Headers.Authorization.ToString();
        var space = h.IndexOf(' ', StringComparison.Ordinal);
        return space > 0 && h[..space].Equals("Bearer", StringComparison.OrdinalIgnoreCase) ? h[(space + 1)..].Trim() : null;
    }
}
