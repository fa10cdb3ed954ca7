using System.Text.Json;

namespace DifyUsageExporter.Dify;

/// <summary>The session: one immutable record per login or refresh, parsed from Dify's answer (legacy body or Set-Cookie) and written onto every request (Bearer, cookies + X-CSRF-Token, admin key).</summary>
public sealed partial class DifyConsoleClient
{
    /// <summary>One session: immutable, swapped as a whole on login/refresh; <see cref="Generation"/> tells concurrent callers whether someone else already renewed it.</summary>
    private sealed record Session(
        DifyAuthEra Era,
        string? AccessToken,
        string? RefreshToken,
        IReadOnlyList<KeyValuePair<string, string>> Cookies,
        DateTimeOffset? ExpiresAt,
        DateTimeOffset ObtainedAt,
        long Generation)
    {
        // The headers every request of this session carries, built once instead of per request
        // (a session is never copied with `with`, so these always match its fields).
        public string BearerHeader { get; } = "Bearer " + AccessToken;

        public string? CookieHeader { get; } = Cookies.Count == 0 ? null : string.Join("; ", Cookies.Select(c => c.Key + "=" + c.Value));

        public string? CsrfHeader { get; } = Cookies.Where(c => DifyTokens.BaseName(c.Key) == "csrf_token").Select(c => c.Value).FirstOrDefault();

        public string? Cookie(string baseName) =>
            Cookies.Where(c => DifyTokens.BaseName(c.Key) == baseName).Select(c => c.Value).FirstOrDefault();

        public string? CookieName(string baseName) =>
            Cookies.Where(c => DifyTokens.BaseName(c.Key) == baseName).Select(c => c.Key).FirstOrDefault();
    }

    private static async Task<DifyResultBody?> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(text, DifyJson.Default.DifyResultBody);
        }
        catch (JsonException)
        {
            // A non-JSON success body: treated as "no tokens".
            return null;
        }
    }

    private Session? FromLegacyBody(DifyResultBody? body, long generation)
    {
        if (body is null || body.Data.ValueKind != JsonValueKind.Object
            || !body.Data.TryGetProperty("access_token", out var access) || access.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var accessToken = access.GetString();
        var refreshToken = body.Data.TryGetProperty("refresh_token", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        secrets.Add(accessToken);
        secrets.Add(refreshToken);
        return new Session(DifyAuthEra.Legacy, accessToken, refreshToken, [], DifyTokens.JwtExpiry(accessToken), time.GetUtcNow(), generation);
    }

    /// <summary>Cookie era: the Set-Cookie headers, by their exact names, merged over the previous cookies.</summary>
    private Session? FromCookies(HttpResponseMessage response, IReadOnlyList<KeyValuePair<string, string>> previous, long generation)
    {
        if (!response.Headers.TryGetValues("Set-Cookie", out var headers))
        {
            return null;
        }

        var cookies = previous.ToList();
        var any = false;
        foreach (var header in headers)
        {
            if (DifyTokens.ParseSetCookie(header) is not { } cookie)
            {
                continue;
            }

            any = true;
            cookies.RemoveAll(c => c.Key == cookie.Name);
            if (!cookie.Deletes)
            {
                secrets.Add(cookie.Value);
                cookies.Add(new(cookie.Name, cookie.Value));
            }
        }

        if (!any)
        {
            return null;
        }

        string? Find(string baseName) => cookies.Where(c => DifyTokens.BaseName(c.Key) == baseName).Select(c => c.Value).FirstOrDefault();
        var access = Find("access_token");
        var csrf = Find("csrf_token");
        DateTimeOffset? expires = new[] { DifyTokens.JwtExpiry(access), DifyTokens.JwtExpiry(csrf) }.Where(e => e is not null).Min();
        return new Session(DifyAuthEra.Cookie, access, Find("refresh_token"), cookies, expires, time.GetUtcNow(), generation);
    }

    /// <summary>Adds the session's credentials: Bearer (legacy, admin key + X-WORKSPACE-ID) or the received cookies + X-CSRF-Token (+ Bearer).</summary>
    private static void Authorize(HttpRequestMessage request, Session s, string? workspaceId)
    {
        switch (s.Era)
        {
            case DifyAuthEra.AdminKey:
                request.Headers.TryAddWithoutValidation("Authorization", s.BearerHeader);
                request.Headers.TryAddWithoutValidation("X-WORKSPACE-ID", workspaceId);
                break;
            case DifyAuthEra.Legacy:
                request.Headers.TryAddWithoutValidation("Authorization", s.BearerHeader);
                break;
            default:
                if (s.CookieHeader is { } cookies)
                {
                    request.Headers.TryAddWithoutValidation("Cookie", cookies);
                }

                if (s.CsrfHeader is { } csrf)
                {
                    request.Headers.TryAddWithoutValidation("X-CSRF-Token", csrf);
                }

                if (s.AccessToken is not null)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", s.BearerHeader);
                }

                break;
        }
    }
}
