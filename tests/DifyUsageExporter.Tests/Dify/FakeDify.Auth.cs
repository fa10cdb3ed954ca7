using System.Net;
using System.Text;
using System.Text.Json;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>The fake's authentication: login, token issue, refresh, cookies and the 401 of an expired session.</summary>
public sealed partial class FakeDify
{
    private HttpResponseMessage Login(string body)
    {
        using var doc = JsonDocument.Parse(body);
        var email = doc.RootElement.GetProperty("email").GetString();
        var sent = doc.RootElement.GetProperty("password").GetString()!;
        LoginPasswords.Enqueue(sent);
        if (failures >= 5)
        {
            return Error(HttpStatusCode.TooManyRequests, "email_code_login_limit", "Too many incorrect password attempts. Please try again later.");
        }

        var password = sent;
        if (Mode == FakeAuthMode.CookieBase64)
        {
            try
            {
                password = Encoding.UTF8.GetString(Convert.FromBase64String(sent));
            }
            catch (FormatException)
            {
                failures++;
                failedLogins++;
                return Error(HttpStatusCode.Unauthorized, "authentication_failed", "Invalid encrypted data");
            }
        }

        if (email != Email || password != Password)
        {
            failures++;
            failedLogins++;
            return Mode == FakeAuthMode.Legacy
                ? Error(HttpStatusCode.BadRequest, "email_or_password_mismatch", "The email or password is mismatched.")
                : Error(HttpStatusCode.Unauthorized, "authentication_failed", "Invalid email or password.");
        }

        if (NoWorkspace)
        {
            return Json(HttpStatusCode.OK, "{\"result\":\"fail\",\"data\":\"workspace not found, please contact system admin to invite you to join in a workspace\"}");
        }

        Interlocked.Increment(ref logins);
        return IssueTokens();
    }

    private HttpResponseMessage IssueTokens()
    {
        var n = Interlocked.Increment(ref counter);
        var exp = time.GetUtcNow() + TokenTtl;
        var access = Jwt($"{{\"user_id\":\"{AccountId}\",\"exp\":{exp.ToUnixTimeSeconds()},\"n\":{n}}}");
        var csrf = Jwt($"{{\"sub\":\"{AccountId}\",\"exp\":{exp.ToUnixTimeSeconds()},\"n\":{n}}}");
        var refresh = Convert.ToHexString(Guid.NewGuid().ToByteArray()) + n.ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
        accessTokens[access] = exp;
        csrfTokens[csrf] = exp;
        refreshTokens[refresh] = 0;
        if (Mode == FakeAuthMode.Legacy)
        {
            return Json(HttpStatusCode.OK, $"{{\"result\":\"success\",\"data\":{{\"access_token\":\"{access}\",\"refresh_token\":\"{refresh}\"}}}}");
        }

        var response = Json(HttpStatusCode.OK, "{\"result\":\"success\"}");
        var secure = Secure ? " Secure;" : string.Empty;
        var domain = CookieDomain is null ? string.Empty : $" Domain={CookieDomain};";
        var expires = exp.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        response.Headers.TryAddWithoutValidation("Set-Cookie", $"{Name("access_token")}={access};{domain} Expires={expires}; Max-Age={(int)TokenTtl.TotalSeconds};{secure} HttpOnly; Path=/; SameSite=Lax");
        response.Headers.TryAddWithoutValidation("Set-Cookie", $"{Name("refresh_token")}={refresh};{domain} Expires={expires}; Max-Age=2592000;{secure} HttpOnly; Path=/; SameSite=Lax");
        response.Headers.TryAddWithoutValidation("Set-Cookie", $"{Name("csrf_token")}={csrf};{domain} Expires={expires}; Max-Age={(int)TokenTtl.TotalSeconds};{secure} Path=/; SameSite=Lax");
        return response;
    }

    private HttpResponseMessage Refresh(HttpRequestMessage request, string? body)
    {
        string? token;
        if (Mode == FakeAuthMode.Legacy)
        {
            using var doc = JsonDocument.Parse(body ?? "{}");
            token = doc.RootElement.TryGetProperty("refresh_token", out var t) ? t.GetString() : null;
        }
        else
        {
            token = Cookies(request).GetValueOrDefault(Name("refresh_token"));
        }

        // Rotation: a refresh token works once.
        if (token is null || !refreshTokens.TryRemove(token, out _))
        {
            Interlocked.Increment(ref refreshRejections);
            return Json(HttpStatusCode.Unauthorized, "{\"result\":\"fail\",\"message\":\"Invalid refresh token\"}");
        }

        Interlocked.Increment(ref refreshes);
        return IssueTokens();
    }

    private static Dictionary<string, string> Cookies(HttpRequestMessage request)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (request.Headers.TryGetValues("Cookie", out var headers))
        {
            foreach (var pair in headers.SelectMany(h => h.Split(';')))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    result[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
                }
            }
        }

        return result;
    }

    private HttpResponseMessage? Authenticate(HttpRequestMessage request)
    {
        var now = time.GetUtcNow();
        var bearer = request.Headers.Authorization is { Scheme: var s, Parameter: var p } && s.Equals("Bearer", StringComparison.OrdinalIgnoreCase) ? p : null;
        if (AdminKey is not null && bearer == AdminKey)
        {
            return request.Headers.TryGetValues("X-WORKSPACE-ID", out var ws) && ws.Single() == "w1" ? null : Unauthorized("Invalid workspace.");
        }

        var cookies = Cookies(request);
        // The cookie wins over the Bearer header.
        var access = cookies.GetValueOrDefault(Name("access_token")) ?? bearer;
        if (access is null || !accessTokens.TryGetValue(access, out var exp))
        {
            return Unauthorized("Invalid Authorization token.");
        }

        if (now >= exp)
        {
            return Unauthorized("Token has expired.");
        }

        if (Mode != FakeAuthMode.Legacy)
        {
            var header = request.Headers.TryGetValues("X-CSRF-Token", out var values) ? values.FirstOrDefault() : null;
            var cookie = cookies.GetValueOrDefault(Name("csrf_token"));
            if (header is null || header != cookie || !csrfTokens.TryGetValue(header, out var csrfExp) || now >= csrfExp)
            {
                return Unauthorized("CSRF token is missing or invalid.");
            }
        }

        return null;
    }

    private static string Jwt(string payload)
    {
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"{B64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")}.{B64(payload)}.c2lnbmF0dXJl";
    }

    private static HttpResponseMessage Unauthorized(string message)
    {
        var response = Error(HttpStatusCode.Unauthorized, "unauthorized", message);
        response.Headers.TryAddWithoutValidation("WWW-Authenticate", "Bearer realm=\"api\"");
        return response;
    }
}
