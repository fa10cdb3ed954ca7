
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
        using var request = NewRequest(HttpMethod.Get, path, null);
        using var response = await SendRawAsync(request, cancellationToken).ConfigureAwait(false);
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

        using var request = Build();
        using var response = await SendRawAsync(request, cancellationToken).ConfigureAwait(false);
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
}
