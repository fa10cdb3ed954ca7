using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Dify;

/// <summary>How the client authenticates to this Dify.</summary>
public enum DifyAuthEra
{
    /// <summary>0.x–1.7: tokens in the login body, <c>Authorization: Bearer</c>.</summary>
    Legacy,
    /// <summary>1.8/1.9+: tokens in Set-Cookie, CSRF double-submit on every call.</summary>
    Cookie,
    /// <summary>Workspace admin key (DIFY_API_TOKEN + DIFY_WORKSPACE_ID).</summary>
    AdminKey,
}

/// <summary>What the client learned about the server and its session (for <c>check</c>).</summary>
public sealed record DifyServerInfo(string? Version, DifyAuthEra Era, string PasswordEncoding, IReadOnlyList<string> CookieNames, DateTimeOffset? SessionExpiresAt);

public sealed partial class DifyConsoleClient
{
    private static readonly Version Base64PasswordSince = new(1, 11, 0);
    private const int MaxSessionRenewals = 3;

    private readonly SemaphoreSlim authGate = new(1, 1);
    private Session? session;
    private bool versionProbed;
    private string? serverVersion;
    private string passwordEncodingUsed = "n/a";
    private DifyAuthException? failedLogin;

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
        public string? Cookie(string baseName) =>
            Cookies.Where(c => DifyTokens.BaseName(c.Key) == baseName).Select(c => c.Value).FirstOrDefault();

        public string? CookieName(string baseName) =>
            Cookies.Where(c => DifyTokens.BaseName(c.Key) == baseName).Select(c => c.Key).FirstOrDefault();
    }

    /// <summary>Server version and session facts (after <see cref="ConnectAsync"/>).</summary>
    public DifyServerInfo ServerInfo
    {
        get
        {
            var s = session;
            return new DifyServerInfo(serverVersion, s?.Era ?? DifyAuthEra.Legacy, passwordEncodingUsed, s?.Cookies.Select(c => c.Key).ToList() ?? [], s?.ExpiresAt);
        }
    }

    /// <summary>Reads the server version (GET /console/api/system-features, no auth) and logs in. Idempotent.</summary>
    public async Task<DifyServerInfo> ConnectAsync(CancellationToken cancellationToken)
    {
        await EnsureSessionAsync(cancellationToken).ConfigureAwait(false);
        return ServerInfo;
    }

    /// <summary>Detects <c>X-Version</c> once, before the first login.</summary>
    public async Task<string?> DetectVersionAsync(CancellationToken cancellationToken)
    {
        if (versionProbed)
        {
            return serverVersion;
        }

        const string path = "/console/api/system-features";
        using var response = await SendRawAsync(HttpMethod.Get, path, () => NewRequest(HttpMethod.Get, path, null), login: false, cancellationToken).ConfigureAwait(false);
        serverVersion = VersionHeader(response) ?? serverVersion;
        versionProbed = true;
        return serverVersion;
    }

    private static string? VersionHeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Version", out var values) ? values.FirstOrDefault() : null;

    /// <summary>Logs in when there is no session; refreshes when the access token is about to expire.</summary>
    private async Task<Session> EnsureSessionAsync(CancellationToken cancellationToken)
    {
        var current = session;
        if (current is not null && !NeedsRefresh(current))
        {
            return current;
        }

        await authGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            current = session;
            if (current is null)
            {
                session = await LoginAsync(cancellationToken).ConfigureAwait(false);
            }
            else if (NeedsRefresh(current))
            {
                session = await RenewAsync(current, "access token about to expire", cancellationToken).ConfigureAwait(false);
            }

            return session!;
        }
        finally
        {
            authGate.Release();
        }
    }

    /// <summary>True shortly before <c>exp</c>: 60 s, or a fifth of the token's lifetime when that is shorter (short TTLs in tests).</summary>
    private bool NeedsRefresh(Session s)
    {
        if (s.Era == DifyAuthEra.AdminKey || s.ExpiresAt is not { } exp)
        {
            return false;
        }

        var lifetime = exp - s.ObtainedAt;
        var margin = TimeSpan.FromSeconds(Math.Min(60, Math.Max(0, lifetime.TotalSeconds / 5)));
        return time.GetUtcNow() >= exp - margin;
    }

    /// <summary>After a 401: renew the session unless another caller already did (generation changed).</summary>
    private async Task<(Session Session, bool Renewed)> RecoverAsync(Session failed, CancellationToken cancellationToken)
    {
        if (failed.Era == DifyAuthEra.AdminKey)
        {
            throw new DifyAuthException(DifyAuthFailure.AdminKeyRejected, "Dify refused the admin key (DIFY_API_TOKEN) with 401. Check that ADMIN_API_KEY_ENABLE=true and ADMIN_API_KEY match on the Dify side, that DIFY_WORKSPACE_ID is the workspace id, and that this Dify version exempts the admin key from CSRF (cookie-era versions before 2026 do not).", 401);
        }

        await authGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = session;
            if (current is not null && current.Generation != failed.Generation)
            {
                return (current, false);
            }

            session = await RenewAsync(failed, "401 from Dify", cancellationToken).ConfigureAwait(false);
            return (session, true);
        }
        finally
        {
            authGate.Release();
        }
    }

    /// <summary>Refresh (rotating token); when that fails, one new login. Caller holds <see cref="authGate"/>.</summary>
    private async Task<Session> RenewAsync(Session old, string reason, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(old.RefreshToken))
        {
            var refreshed = await TryRefreshAsync(old, cancellationToken).ConfigureAwait(false);
            if (refreshed is not null)
            {
                DifyMetrics.Refreshes.Add(1);
                DifyLog.Refreshed(logger, reason);
                return refreshed;
            }
        }

        return await LoginAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<Session?> TryRefreshAsync(Session old, CancellationToken cancellationToken)
    {
        const string path = "/console/api/refresh-token";
        HttpRequestMessage Build()
        {
            if (old.Era == DifyAuthEra.Legacy)
            {
                return NewRequest(HttpMethod.Post, path, Json(new DifyRefreshRequest { RefreshToken = old.RefreshToken! }, DifyJson.Default.DifyRefreshRequest));
            }

            var request = NewRequest(HttpMethod.Post, path, null);
            var name = old.CookieName("refresh_token") ?? "refresh_token";
            var cookie = $"{name}={old.RefreshToken}";
            if (name != "refresh_token")
            {
                // Dify 1.9.2 read the unprefixed refresh cookie only (issue #27354): send both names.
                cookie += $"; refresh_token={old.RefreshToken}";
            }

            request.Headers.TryAddWithoutValidation("Cookie", cookie);
            return request;
        }

        using var response = await SendRawAsync(HttpMethod.Post, path, Build, login: false, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            if ((int)response.StatusCode >= 500)
            {
                throw await ToApiExceptionAsync(response, path, cancellationToken).ConfigureAwait(false);
            }

            DifyLog.RefreshFailed(logger, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return null;
        }

        var body = await ReadBodyAsync(response, cancellationToken).ConfigureAwait(false);
        var next = old.Era == DifyAuthEra.Legacy
            ? FromLegacyBody(body, old.Generation + 1)
            : FromCookies(response, old.Cookies, old.Generation + 1);
        if (next is null || next.AccessToken is null && next.Cookie("csrf_token") is null)
        {
            DifyLog.RefreshFailed(logger, "no tokens in the answer");
            return null;
        }

        return next;
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

    /// <summary>Logs in (or sets up the admin-key session). Caller holds <see cref="authGate"/>.</summary>
    private async Task<Session> LoginAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(settings.DifyApiToken))
        {
            if (string.IsNullOrEmpty(settings.DifyWorkspaceId))
            {
                throw new DifyAuthException(DifyAuthFailure.WorkspaceNotFound, "DIFY_API_TOKEN (admin key) needs DIFY_WORKSPACE_ID, the workspace (tenant) id it acts on.");
            }

            await TryDetectVersionAsync(cancellationToken).ConfigureAwait(false);
            passwordEncodingUsed = "n/a";
            return new Session(DifyAuthEra.AdminKey, settings.DifyApiToken, null, [], null, time.GetUtcNow(), (session?.Generation ?? 0) + 1);
        }

        if (string.IsNullOrEmpty(settings.DifyEmail) || string.IsNullOrEmpty(settings.DifyPassword))
        {
            throw new DifyAuthException(DifyAuthFailure.WrongCredentials, "DIFY_EMAIL and DIFY_PASSWORD are not set (or DIFY_API_TOKEN with DIFY_WORKSPACE_ID).");
        }

        if (failedLogin is { } earlier)
        {
            // One login attempt per cycle: a second one could only add to Dify's failure count.
            throw new DifyAuthException(earlier.Failure, $"{earlier.Message} (Not tried again in this cycle: at most one login attempt per cycle.)", earlier.StatusCode, earlier.Code);
        }

        var email = settings.DifyEmail;
        var credentials = DifyLoginGuard.Credentials(baseUrl, email, settings.DifyPassword, settings.DifyPasswordEncoding.ToString());
        if (LoginGuard is not null)
        {
            await LoginGuard.CheckAsync(credentials, email, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var next = await PasswordLoginAsync(cancellationToken).ConfigureAwait(false);
            if (LoginGuard is not null)
            {
                await LoginGuard.ClearAsync(cancellationToken).ConfigureAwait(false);
            }

            return next;
        }
        catch (Exception ex) when (ex is DifyAuthException or DifyApiException)
        {
            failedLogin = ex as DifyAuthException ?? new DifyAuthException(DifyAuthFailure.Other, ex.Message, (ex as DifyApiException)?.StatusCode, inner: ex);
            // Only Dify's verdict on the credentials is remembered across cycles; a timeout or 5xx is not a rejection.
            if (LoginGuard is not null && ex is DifyAuthException { Failure: DifyAuthFailure.WrongCredentials or DifyAuthFailure.PasswordEncoding or DifyAuthFailure.AccountLocked } rejected)
            {
                await LoginGuard.RememberAsync(rejected.Failure, secrets.Mask(rejected.Message), credentials, CancellationToken.None).ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>Forgets a failed login of the previous cycle: the next cycle may make its one attempt.</summary>
    public void BeginCycle() => failedLogin = null;

    /// <summary>
    /// Remembers rejected credentials and Dify's account lock across cycles and restarts (null: no
    /// state store, e.g. in unit tests). See <see cref="DifyLoginGuard"/>.
    /// </summary>
    public DifyLoginGuard? LoginGuard { get; set; }

    /// <summary>The one e-mail/password login POST (never retried: see the login pipeline).</summary>
    private async Task<Session> PasswordLoginAsync(CancellationToken cancellationToken)
    {
        await TryDetectVersionAsync(cancellationToken).ConfigureAwait(false);
        var base64 = settings.DifyPasswordEncoding switch
        {
            PasswordEncoding.Base64 => true,
            PasswordEncoding.Plain => false,
            _ => DifyTokens.ParseVersion(serverVersion) is { } v && v >= Base64PasswordSince,
        };
        passwordEncodingUsed = base64 ? "base64" : "plain";
        if (serverVersion is null)
        {
            DifyLog.VersionUnknown(logger, passwordEncodingUsed);
        }
        else
        {
            DifyLog.VersionDetected(logger, serverVersion, passwordEncodingUsed);
        }

        var password = base64 ? DifyTokens.EncodePassword(settings.DifyPassword!) : settings.DifyPassword;
        const string path = "/console/api/login";
        DifyMetrics.Logins.Add(1);
        using var response = await SendRawAsync(
            HttpMethod.Post,
            path,
            () => NewRequest(HttpMethod.Post, path, Json(new DifyLoginRequest { Email = settings.DifyEmail!, Password = password!, RememberMe = false }, DifyJson.Default.DifyLoginRequest)),
            login: true,
            cancellationToken).ConfigureAwait(false);
        serverVersion ??= VersionHeader(response);

        if (!response.IsSuccessStatusCode)
        {
            throw await LoginFailureAsync(response, base64, cancellationToken).ConfigureAwait(false);
        }

        var body = await ReadBodyAsync(response, cancellationToken).ConfigureAwait(false);
        if (body?.Result is { } result && !string.Equals(result, "success", StringComparison.OrdinalIgnoreCase))
        {
            var data = body.Data.ValueKind == JsonValueKind.String ? body.Data.GetString() : body.Message;
            if (data?.Contains("workspace", StringComparison.OrdinalIgnoreCase) == true)
            {
                throw new DifyAuthException(DifyAuthFailure.NoWorkspace, $"Dify accepted the password but the account {settings.DifyEmail} belongs to no workspace. Invite it to the workspace to export (as editor or above).", 200, "workspace_not_found");
            }

            throw new DifyAuthException(DifyAuthFailure.Other, $"Dify refused the login: {secrets.Mask(data ?? "result=" + result)}", 200);
        }

        var generation = (session?.Generation ?? 0) + 1;
        var next = FromLegacyBody(body, generation) ?? FromCookies(response, [], generation);
        if (next is null || next.AccessToken is null && next.Cookie("csrf_token") is null)
        {
            throw new DifyAuthException(DifyAuthFailure.SessionRejected, "Dify answered the login with success but sent neither tokens in the body nor session cookies (Set-Cookie). A proxy in front of Dify may strip Set-Cookie headers.", 200);
        }

        DifyLog.LoggedIn(logger, next.Era.ToString(), string.Join(",", next.Cookies.Select(c => c.Key)));
        await SelectWorkspaceAsync(next, cancellationToken).ConfigureAwait(false);
        return next;
    }

    private async Task TryDetectVersionAsync(CancellationToken cancellationToken)
    {
        try
        {
            await DetectVersionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DifyApiException) when (!cancellationToken.IsCancellationRequested)
        {
            // Some very old versions lack system-features; login still reports X-Version.
            versionProbed = true;
        }
    }

    private async Task<DifyAuthException> LoginFailureAsync(HttpResponseMessage response, bool base64, CancellationToken cancellationToken)
    {
        var api = await ToApiExceptionAsync(response, "/console/api/login", cancellationToken).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        var code = api.Code;
        var message = api.Message;
        var (failure, text) = (status, code) switch
        {
            (429, _) => (DifyAuthFailure.AccountLocked, $"Dify has locked the login of {settings.DifyEmail} after too many failed attempts (429 {code}). Wait for the lock to expire (LOGIN_LOCKOUT_DURATION, default 24 h) or have an admin clear it; fix DIFY_PASSWORD first. The exporter does not retry."),
            (401, "authentication_failed") when api.Message.Contains("encrypted", StringComparison.OrdinalIgnoreCase) =>
                (DifyAuthFailure.PasswordEncoding, $"Dify could not decode the password (sent {(base64 ? "Base64-encoded" : "as plain text")}; server version {serverVersion ?? "unknown"}). Set DIFY_PASSWORD_ENCODING={(base64 ? "plain" : "base64")}. Each failed attempt counts towards Dify's 5-attempt lock."),
            (401, "authentication_failed") or (400, "email_or_password_mismatch") or (401, "email_or_password_mismatch") =>
                (DifyAuthFailure.WrongCredentials, $"Dify rejected the e-mail or password of {settings.DifyEmail} ({status} {code}). Check DIFY_EMAIL and DIFY_PASSWORD{(base64 ? string.Empty : "; if Dify is 1.11 or later, also DIFY_PASSWORD_ENCODING=base64")}. Not retried: five failures lock the account for a day."),
            (400, "account_banned") or (_, "account_banned") => (DifyAuthFailure.AccountDisabled, $"The Dify account {settings.DifyEmail} is banned or disabled ({code}). Ask a Dify admin to re-enable it."),
            (403, _) => (DifyAuthFailure.PasswordLoginDisabled, $"Dify refused password login (403 {code}): e-mail/password login is disabled on this instance. Enable it, or use an admin key (DIFY_API_TOKEN + DIFY_WORKSPACE_ID)."),
            (401, "not_setup" or "not_init_validated") => (DifyAuthFailure.NotSetUp, $"Dify is not set up yet ({code}). Finish the installation wizard first."),
            (401, _) or (400, _) => (DifyAuthFailure.WrongCredentials, $"Dify refused the login ({status} {code}: {message}). Check DIFY_EMAIL, DIFY_PASSWORD and DIFY_PASSWORD_ENCODING."),
            _ => (DifyAuthFailure.Other, api.Message),
        };
        return new DifyAuthException(failure, text, status, code, api);
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
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + s.AccessToken);
                request.Headers.TryAddWithoutValidation("X-WORKSPACE-ID", workspaceId);
                break;
            case DifyAuthEra.Legacy:
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + s.AccessToken);
                break;
            default:
                if (s.Cookies.Count > 0)
                {
                    request.Headers.TryAddWithoutValidation("Cookie", string.Join("; ", s.Cookies.Select(c => c.Key + "=" + c.Value)));
                }

                if (s.Cookie("csrf_token") is { } csrf)
                {
                    request.Headers.TryAddWithoutValidation("X-CSRF-Token", csrf);
                }

                if (s.AccessToken is not null)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + s.AccessToken);
                }

                break;
        }
    }

    /// <summary>
    /// An authenticated call: ensures a fresh session, sends (with retries), and on 401 renews the
    /// session once (refresh, else login) and sends again.
    /// </summary>
    internal async Task<T> SendAsync<T>(HttpMethod method, string path, Func<HttpContent?>? content, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        var s = await EnsureSessionAsync(cancellationToken).ConfigureAwait(false);
        var renewals = 0;
        for (var attempt = 0; ; attempt++)
        {
            var used = s;
            using var response = await SendRawAsync(method, path, () => BuildAuthorized(method, path, content, used), login: false, cancellationToken).ConfigureAwait(false);
            // A 401 renews the session (refresh, else login) and tries again. Only renewals this call
            // performed itself count towards the limit: under heavy concurrency a session renewed by
            // another caller can expire again before this caller's retry. A session refused even
            // right after its own renewals is a cookie/CSRF problem, not an expiry.
            if (response.StatusCode == HttpStatusCode.Unauthorized && renewals < MaxSessionRenewals && attempt < MaxSessionRenewals * 4)
            {
                (s, var renewed) = await RecoverAsync(used, cancellationToken).ConfigureAwait(false);
                if (renewed)
                {
                    renewals++;
                }

                continue;
            }

            if (!response.IsSuccessStatusCode)
            {
                var api = await ToApiExceptionAsync(response, path, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    throw new DifyAuthException(
                        DifyAuthFailure.SessionRejected,
                        $"Dify keeps refusing the session after a fresh login ({api.Message}). With cookie-era Dify this is usually a CSRF/cookie problem: a proxy dropping Cookie or X-CSRF-Token headers, or CONSOLE_API_URL/COOKIE_DOMAIN settings that do not match.",
                        401,
                        api.Code,
                        api);
                }

                throw api;
            }

            return await ReadJsonAsync(response, path, typeInfo, cancellationToken).ConfigureAwait(false);
        }
    }

    private HttpRequestMessage BuildAuthorized(HttpMethod method, string path, Func<HttpContent?>? content, Session s)
    {
        var request = NewRequest(method, path, content?.Invoke());
        Authorize(request, s, settings.DifyWorkspaceId);
        return request;
    }

    /// <summary>
    /// With e-mail login and DIFY_WORKSPACE_ID: makes that workspace the account's current one
    /// (GET /workspaces, POST /workspaces/switch). Uses the new session directly (the auth gate is held).
    /// </summary>
    private async Task SelectWorkspaceAsync(Session s, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(settings.DifyWorkspaceId))
        {
            return;
        }

        const string listPath = "/console/api/workspaces";
        using var listResponse = await SendRawAsync(HttpMethod.Get, listPath, () => BuildAuthorized(HttpMethod.Get, listPath, null, s), false, cancellationToken).ConfigureAwait(false);
        if (!listResponse.IsSuccessStatusCode)
        {
            throw await ToApiExceptionAsync(listResponse, listPath, cancellationToken).ConfigureAwait(false);
        }

        var list = await ReadJsonAsync(listResponse, listPath, DifyJson.Default.DifyWorkspaceList, cancellationToken).ConfigureAwait(false);
        var wanted = settings.DifyWorkspaceId.Trim();
        var workspace = list.Workspaces?.FirstOrDefault(w => string.Equals(w.Id, wanted, StringComparison.OrdinalIgnoreCase))
            ?? throw new DifyAuthException(DifyAuthFailure.WorkspaceNotFound, $"DIFY_WORKSPACE_ID={wanted} is not one of the workspaces of {settings.DifyEmail} ({string.Join(", ", (list.Workspaces ?? []).Select(w => $"{w.Id} \"{w.Name}\""))}).");
        if (workspace.Current == true)
        {
            return;
        }

        const string switchPath = "/console/api/workspaces/switch";
        using var switchResponse = await SendRawAsync(
            HttpMethod.Post,
            switchPath,
            () => BuildAuthorized(HttpMethod.Post, switchPath, () => Json(new DifySwitchRequest { TenantId = wanted }, DifyJson.Default.DifySwitchRequest), s),
            false,
            cancellationToken).ConfigureAwait(false);
        if (!switchResponse.IsSuccessStatusCode)
        {
            var api = await ToApiExceptionAsync(switchResponse, switchPath, cancellationToken).ConfigureAwait(false);
            throw new DifyAuthException(DifyAuthFailure.WorkspaceNotFound, $"Dify refused to switch to workspace {wanted}: {api.Message}", api.StatusCode, api.Code, api);
        }

        DifyLog.WorkspaceSwitched(logger, wanted);
    }
}
