using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Simulators.Dify;

/// <summary>system-features, login, refresh-token, logout (docs/dify.md).</summary>
internal static class AuthEndpoints
{
    public static void Map(WebApplication app, DifySimulator sim)
    {
        app.MapGet("/console/api/system-features", () => DifyResult.Json(new JsonObject
        {
            ["sso_enforced_for_signin"] = false,
            ["sso_enforced_for_signin_protocol"] = string.Empty,
            ["enable_email_code_login"] = false,
            ["enable_email_password_login"] = sim.Options.PasswordLoginEnabled,
            ["enable_social_oauth_login"] = false,
            ["is_allow_register"] = false,
            ["is_allow_create_workspace"] = false,
            ["is_email_setup"] = false,
            ["license"] = new JsonObject { ["status"] = "none", ["expired_at"] = string.Empty },
        }));
        app.MapPost("/console/api/login", (Delegate)((HttpContext ctx) => LoginAsync(ctx, sim)));
        app.MapPost("/console/api/refresh-token", (Delegate)((HttpContext ctx) => RefreshAsync(ctx, sim)));
        app.MapMethods("/console/api/logout", sim.Options.UsesCookies ? ["POST"] : ["GET"], () => Logout(sim));
    }

    private static async Task<IResult> LoginAsync(HttpContext ctx, DifySimulator sim)
    {
        var result = await LoginCoreAsync(ctx, sim).ConfigureAwait(false);
        sim.Counters.Login(!result.IsFail);
        return result.Result;
    }

    private static async Task<LoginOutcome> LoginCoreAsync(HttpContext ctx, DifySimulator sim)
    {
        var o = sim.Options;
        if (!o.IsSetUp)
        {
            return Fail(DifyResult.Error(401, "not_setup", "Dify has not been set up yet, please go to the installation page and set up."));
        }

        if (!o.PasswordLoginEnabled)
        {
            return Fail(DifyResult.Error(403, "forbidden", "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server."));
        }

        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted).ConfigureAwait(false) as JsonObject;
        }
        catch (JsonException)
        {
            body = null;
        }

        var email = body?["email"]?.GetValue<string>();
        var password = body?["password"]?.GetValue<string>();
        if (email is null || password is null)
        {
            return Fail(DifyResult.InvalidParam("email: Missing required parameter in the JSON body", "email"));
        }

        if (o.AuthMode == DifyAuthMode.CookieBase64)
        {
            // decrypt_password_field runs before the login logic: it does not count towards the lock.
            try
            {
                password = new UTF8Encoding(false, true).GetString(Convert.FromBase64String(password));
            }
            catch (Exception e) when (e is FormatException or DecoderFallbackException)
            {
                return Fail(DifyResult.Error(401, "authentication_failed", "Invalid encrypted data"));
            }
        }

        if (sim.Auth.IsLocked)
        {
            return Fail(DifyResult.Error(429, "email_code_login_limit", "Too many incorrect password attempts. Please try again later."));
        }

        if (!email.Equals(o.Email, StringComparison.OrdinalIgnoreCase) || password != o.Password)
        {
            sim.Auth.RecordFailure();
            return Fail(o.AuthMode == DifyAuthMode.Legacy
                ? DifyResult.Error(400, "email_or_password_mismatch", "The email or password is mismatched.")
                : DifyResult.Error(401, "authentication_failed", "Invalid email or password."));
        }

        if (o.AccountBanned)
        {
            return Fail(DifyResult.Error(400, "account_banned", "Account is banned."));
        }

        sim.Auth.ResetFailures();
        if (o.AccountHasNoWorkspace)
        {
            return new LoginOutcome(DifyResult.Json(new JsonObject
            {
                ["result"] = "fail",
                ["data"] = "workspace not found, please contact system admin to invite you to join in a workspace",
            }), true);
        }

        var tokens = sim.Auth.Issue();
        if (!o.UsesCookies)
        {
            return new LoginOutcome(DifyResult.Json(new JsonObject
            {
                ["result"] = "success",
                ["data"] = new JsonObject { ["access_token"] = tokens.Access, ["refresh_token"] = tokens.Refresh },
            }), false);
        }

        var r = DifyResult.Json(new JsonObject { ["result"] = "success" });
        r.Headers.AddRange(sim.Auth.SetCookies(tokens).Select(v => new KeyValuePair<string, string>("Set-Cookie", v)));
        return new LoginOutcome(r, false);
    }

    private static LoginOutcome Fail(DifyResult r) => new(r, true);

    private sealed record LoginOutcome(DifyResult Result, bool IsFail);

    private static async Task<IResult> RefreshAsync(HttpContext ctx, DifySimulator sim)
    {
        var o = sim.Options;
        if (!o.UsesCookies)
        {
            string? token = null;
            try
            {
                var body = await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted).ConfigureAwait(false);
                token = body?["refresh_token"]?.GetValue<string>();
            }
            catch (JsonException)
            {
                // an unreadable body is the same as a missing token
            }

            if (string.IsNullOrEmpty(token) || !sim.Auth.TryConsumeRefresh(token))
            {
                sim.Counters.Refresh(false);
                return DifyResult.Json(new JsonObject { ["result"] = "fail", ["data"] = "Invalid refresh token" }, 401);
            }

            var t = sim.Auth.Issue();
            sim.Counters.Refresh(true);
            return DifyResult.Json(new JsonObject
            {
                ["result"] = "success",
                ["data"] = new JsonObject { ["access_token"] = t.Access, ["refresh_token"] = t.Refresh },
            });
        }

        var name = o.RefreshReadsUnprefixedCookie ? "refresh_token" : o.CookieName("refresh_token");
        if (!ctx.Request.Cookies.TryGetValue(name, out var value) || value.Length == 0)
        {
            sim.Counters.Refresh(false);
            return DifyResult.Json(new JsonObject { ["result"] = "fail", ["message"] = "No refresh token provided" }, 401);
        }

        if (!sim.Auth.TryConsumeRefresh(value))
        {
            sim.Counters.Refresh(false);
            return DifyResult.Json(new JsonObject { ["result"] = "fail", ["message"] = "Invalid refresh token" }, 401);
        }

        var tokens = sim.Auth.Issue();
        sim.Counters.Refresh(true);
        var r = DifyResult.Json(new JsonObject { ["result"] = "success" });
        r.Headers.AddRange(sim.Auth.SetCookies(tokens).Select(v => new KeyValuePair<string, string>("Set-Cookie", v)));
        return r;
    }

    private static DifyResult Logout(DifySimulator sim)
    {
        sim.Auth.Logout();
        var r = DifyResult.Json(new JsonObject { ["result"] = "success" });
        if (sim.Options.UsesCookies)
        {
            r.Headers.AddRange(sim.Auth.ClearCookies().Select(v => new KeyValuePair<string, string>("Set-Cookie", v)));
        }

        return r;
    }
}
