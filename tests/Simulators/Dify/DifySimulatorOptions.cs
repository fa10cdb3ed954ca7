namespace Simulators.Dify;

/// <summary>Authentication era of the simulated Dify (docs/dify.md).</summary>
public enum DifyAuthMode
{
    /// <summary>0.x–1.7: tokens in the login JSON, Bearer only, no CSRF, wrong password → 400.</summary>
    Legacy,

    /// <summary>1.9/1.10: tokens in Set-Cookie, CSRF double submit, plain password, wrong password → 401.</summary>
    Cookie,

    /// <summary>1.11 line and later: as <see cref="Cookie"/> but the password must be Base64.</summary>
    CookieBase64,
}

/// <summary>Configuration of one simulated Dify instance.</summary>
public sealed class DifySimulatorOptions
{
    public DifyAuthMode AuthMode { get; init; } = DifyAuthMode.Cookie;

    /// <summary>Sent as <c>X-Version</c>; null → 1.7.2 / 1.9.1 / 1.11.1 by <see cref="AuthMode"/>.</summary>
    public string? Version { get; init; }

    /// <summary>Dify's <c>is_secure()</c> (https console URLs): <c>__Host-</c> names (unless a cookie domain) and <c>Secure</c>.</summary>
    public bool IsSecure { get; init; }

    /// <summary><c>COOKIE_DOMAIN</c>: no <c>__Host-</c> prefix, adds <c>Domain=</c> (leading dot stripped).</summary>
    public string? CookieDomain { get; init; }

    /// <summary>Reproduces bug #27354 of 1.9.2: refresh reads the unprefixed refresh cookie only.</summary>
    public bool RefreshReadsUnprefixedCookie { get; init; }

    public string Email { get; init; } = "ops@example.com";

    public string Password { get; init; } = "Sim-Password-1!";

    public Guid AccountId { get; init; } = new("8f2c1d3e-4b5a-4c6d-9e7f-0a1b2c3d4e5f");

    public string AccountName { get; init; } = "Ops Admin";

    /// <summary>IANA zone of the account: statistics buckets and <c>start</c>/<c>end</c> filters use it.</summary>
    public string AccountTimeZone { get; init; } = "Asia/Tokyo";

    /// <summary><c>owner</c>, <c>admin</c>, <c>editor</c> or <c>normal</c> (normal → 403 on conversations/messages).</summary>
    public string AccountRole { get; init; } = "owner";

    public TimeSpan AccessTokenTtl { get; init; } = TimeSpan.FromMinutes(60);

    public TimeSpan RefreshTokenTtl { get; init; } = TimeSpan.FromDays(30);

    public TimeSpan LoginLockoutDuration { get; init; } = TimeSpan.FromDays(1);

    public int MaxLoginFailures { get; init; } = 5;

    /// <summary>Claim of the CSRF JWT that holds the account id: <c>sub</c>, or <c>user_id</c> (early cookie-era builds).</summary>
    public string CsrfAccountClaim { get; init; } = "sub";

    /// <summary>Signs the JWTs (HS256).</summary>
    public string SecretKey { get; init; } = "sim-secret-key-not-for-production";

    /// <summary>Token expiry, lock duration, "now" of the server. Latency and fault delays use real time.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The account's first (current) workspace: what the truth is computed for.</summary>
    public SimWorkspace Workspace { get; init; } = new();

    /// <summary>Further workspaces the account belongs to (<c>/workspaces</c>, <c>/workspaces/switch</c>).</summary>
    public IReadOnlyList<SimWorkspace> AdditionalWorkspaces { get; init; } = [];

    /// <summary><c>ADMIN_API_KEY</c>: when set, <c>Authorization: Bearer key</c> + <c>X-WORKSPACE-ID</c> act as the owner.</summary>
    public string? AdminApiKey { get; init; }

    /// <summary>Admin-key calls skip CSRF (2026 main); false reproduces 1.9–1.1x where they fail in cookie modes.</summary>
    public bool AdminKeyCsrfExempt { get; init; } = true;

    /// <summary>False → every login is 401 <c>not_setup</c>.</summary>
    public bool IsSetUp { get; init; } = true;

    /// <summary>False → login is 403 (SSO-only).</summary>
    public bool PasswordLoginEnabled { get; init; } = true;

    /// <summary>True → login is 200 <c>{"result":"fail"}</c> (account without workspace).</summary>
    public bool AccountHasNoWorkspace { get; init; }

    /// <summary>True → login 400 <c>account_banned</c>.</summary>
    public bool AccountBanned { get; init; }

    /// <summary><c>/workflow-runs</c> honours <c>triggered_from</c> (2026 main); false = 1.9.x, debug runs only.</summary>
    public bool SupportsTriggeredFromFilter { get; init; }

    /// <summary>Statistics: <c>start &gt; end</c> → 400 (2026 main) instead of an empty result.</summary>
    public bool RejectReversedRange { get; init; }

    /// <summary>Opening a conversation detail bumps its <c>updated_at</c> (1.9.x behaviour).</summary>
    public bool DetailBumpsUpdatedAt { get; init; }

    /// <summary>
    /// Serves the console API of Dify 1.12+ (agent apps, knowledge pipelines); default: from
    /// <see cref="EffectiveVersion"/> (1.12 and later).
    /// </summary>
    public bool? CurrentDifyApi { get; init; }

    public bool ServesCurrentDifyApi => CurrentDifyApi ?? GeneratorOptions.IsCurrentDify(EffectiveVersion);

    /// <summary>
    /// Reconcile trap: node executions leave out the nested agent usage (as a build that never wrote it)
    /// while the run's <c>total_tokens</c>, and so Dify's workflow statistics, still count it.
    /// </summary>
    public bool HideNestedAgentUsage { get; init; }

    /// <summary>Bad-input trap: nested agent usage with <c>total_tokens</c> that is not a number.</summary>
    public bool MalformedNestedAgentUsage { get; init; }

    /// <summary>Keep every GET's path and query (<see cref="SimCounters.Recorded"/>, <c>GET /_sim/requests</c>) for a replay.</summary>
    public bool RecordRequests { get; init; }

    /// <summary>Real-time delay added to every request.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Kestrel port on 127.0.0.1 (0 = any free port).</summary>
    public int Port { get; init; }

    /// <summary>Sent as <c>X-Env</c>.</summary>
    public string DeployEnv { get; init; } = "PRODUCTION";

    public string EffectiveVersion => Version ?? AuthMode switch
    {
        DifyAuthMode.Legacy => "1.7.2",
        DifyAuthMode.Cookie => "1.9.1",
        _ => "1.11.1",
    };

    public bool UsesCookies => AuthMode != DifyAuthMode.Legacy;

    /// <summary><c>__Host-</c> iff secure and no cookie domain (api/libs/token.py).</summary>
    public string CookieName(string baseName) => IsSecure && string.IsNullOrEmpty(CookieDomain) ? "__Host-" + baseName : baseName;
}
