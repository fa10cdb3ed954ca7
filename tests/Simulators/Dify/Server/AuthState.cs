using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Simulators.Dify;

/// <summary>Server-side auth state: refresh tokens (Redis in Dify), the login lock, the current workspace.</summary>
public sealed class AuthState
{
    private readonly DifySimulatorOptions _o;
    private readonly Dictionary<string, DateTimeOffset> _refreshTokens = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private string? _latestRefresh;
    private int _failures;
    private DateTimeOffset _failuresExpireAt;

    internal AuthState(DifySimulatorOptions options, SimWorkspace current)
    {
        _o = options;
        CurrentWorkspace = current;
    }

    /// <summary>The account's current workspace (changed by <c>/workspaces/switch</c>).</summary>
    public SimWorkspace CurrentWorkspace { get; internal set; }

    /// <summary>Refresh tokens currently valid.</summary>
    public int ActiveRefreshTokens
    {
        get
        {
            lock (_gate)
            {
                return _refreshTokens.Count;
            }
        }
    }

    /// <summary>Is the login locked now (≥ max failures within the lock duration)?</summary>
    public bool IsLocked
    {
        get
        {
            lock (_gate)
            {
                return _failures >= _o.MaxLoginFailures && _failuresExpireAt > _o.Clock.GetUtcNow();
            }
        }
    }

    /// <summary>Forgets every refresh token (e.g. a human's logout, a Redis flush).</summary>
    public void RevokeAllRefreshTokens()
    {
        lock (_gate)
        {
            _refreshTokens.Clear();
            _latestRefresh = null;
        }
    }

    internal void RecordFailure()
    {
        lock (_gate)
        {
            var now = _o.Clock.GetUtcNow();
            if (_failuresExpireAt <= now)
            {
                _failures = 0;
            }

            _failures++;
            _failuresExpireAt = now + _o.LoginLockoutDuration; // Redis key TTL is renewed on each failure
        }
    }

    internal void ResetFailures()
    {
        lock (_gate)
        {
            _failures = 0;
        }
    }

    internal TokenPair Issue()
    {
        var now = _o.Clock.GetUtcNow();
        var exp = (now + _o.AccessTokenTtl).ToUnixTimeSeconds();
        var access = Jwt.Sign(new JsonObject { ["user_id"] = _o.AccountId.ToString(), ["exp"] = exp, ["iss"] = "SELF_HOSTED", ["sub"] = "Console API Passport", ["jti"] = Guid.NewGuid().ToString() }, _o.SecretKey);
        var csrf = Jwt.Sign(new JsonObject { ["exp"] = exp, [_o.CsrfAccountClaim] = _o.AccountId.ToString(), ["jti"] = Guid.NewGuid().ToString() }, _o.SecretKey);
        var refresh = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(64));
        lock (_gate)
        {
            _refreshTokens[refresh] = now + _o.RefreshTokenTtl;
            _latestRefresh = refresh;
        }

        return new TokenPair(access, refresh, csrf);
    }

    /// <summary>Consumes a refresh token (rotation: a second use fails).</summary>
    internal bool TryConsumeRefresh(string token)
    {
        lock (_gate)
        {
            if (!_refreshTokens.Remove(token, out var expires) || expires <= _o.Clock.GetUtcNow())
            {
                return false;
            }

            if (_latestRefresh == token)
            {
                _latestRefresh = null;
            }

            return true;
        }
    }

    /// <summary>Logout deletes the account's latest refresh token.</summary>
    internal void Logout()
    {
        lock (_gate)
        {
            if (_latestRefresh is not null)
            {
                _refreshTokens.Remove(_latestRefresh);
                _latestRefresh = null;
            }
        }
    }

    /// <summary>The three Set-Cookie values Werkzeug writes (docs/dify.md).</summary>
    internal IEnumerable<string> SetCookies(TokenPair t)
    {
        var now = _o.Clock.GetUtcNow();
        yield return Cookie("access_token", t.Access, _o.AccessTokenTtl, httpOnly: true, now);
        yield return Cookie("refresh_token", t.Refresh, _o.RefreshTokenTtl, httpOnly: true, now);
        yield return Cookie("csrf_token", t.Csrf, _o.AccessTokenTtl, httpOnly: false, now);
    }

    /// <summary>Werkzeug's <c>delete_cookie</c>: empty value, epoch expiry, <c>Max-Age=0</c>.</summary>
    internal IEnumerable<string> ClearCookies()
    {
        foreach (var (name, httpOnly) in new[] { ("access_token", true), ("refresh_token", true), ("csrf_token", false) })
        {
            yield return Cookie(name, string.Empty, TimeSpan.Zero, httpOnly, DateTimeOffset.UnixEpoch, epoch: true);
        }
    }

    private string Cookie(string baseName, string value, TimeSpan maxAge, bool httpOnly, DateTimeOffset now, bool epoch = false)
    {
        var parts = new List<string> { $"{_o.CookieName(baseName)}={value}" };
        if (!string.IsNullOrEmpty(_o.CookieDomain))
        {
            parts.Add("Domain=" + _o.CookieDomain.TrimStart('.'));
        }

        var expires = epoch ? DateTimeOffset.UnixEpoch : now + maxAge;
        parts.Add("Expires=" + expires.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss 'GMT'", CultureInfo.InvariantCulture));
        parts.Add("Max-Age=" + ((long)maxAge.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        if (_o.IsSecure)
        {
            parts.Add("Secure");
        }

        if (httpOnly)
        {
            parts.Add("HttpOnly");
        }

        parts.Add("Path=/");
        parts.Add("SameSite=Lax");
        return string.Join("; ", parts);
    }
}

internal sealed record TokenPair(string Access, string Refresh, string Csrf);
