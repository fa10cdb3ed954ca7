using System.Net.Sockets;
using System.Security.Authentication;
using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Dify;

/// <summary>
/// What a Dify failure means for the operator: its kind (the stable class <c>check</c> prints), the
/// likely fix, and whether only new credentials can fix it (then <c>/health</c> says so and the
/// daemon does not try again with the same ones; docs/operations.md, "Health").
/// </summary>
public sealed record DifyFailure(DifyCheckFailure Kind, string Fix, bool CredentialsRejected);

/// <summary>
/// The one table from what Dify (or the network in front of it) answered to a failure kind, the
/// operator's message and the fix. The login answer (status + Dify error code, Dify's
/// api/controllers/console/auth/login.py and api/libs/exception.py) gives the
/// <see cref="DifyAuthFailure"/>; every failure, auth or transport, gives a <see cref="DifyFailure"/>.
/// Used by the export cycle and by <c>check</c>, so both say the same thing about the same answer.
/// </summary>
public static class DifyFailures
{
    /// <summary>The facts a login message names.</summary>
    internal sealed record LoginFacts(string? Email, bool Base64, string? ServerVersion);

    private sealed record LoginRow(Func<int, string?, string, bool> Matches, DifyAuthFailure Failure, Func<LoginFacts, int, string?, string, string> Message);

    /// <summary>Login refusals, first match wins: (status, Dify code, Dify message) → failure and the operator's message.</summary>
    private static readonly LoginRow[] LoginRows =
    [
        new((s, _, _) => s == 429, DifyAuthFailure.AccountLocked, (f, _, code, _) => $"Dify has locked the login of {f.Email} after too many failed attempts (429 {code}). Wait for the lock to expire (LOGIN_LOCKOUT_DURATION, default 24 h) or have an admin clear it; fix DIFY_PASSWORD first. The exporter does not retry."),
        new((s, c, m) => s == 401 && c == "authentication_failed" && m.Contains("encrypted", StringComparison.OrdinalIgnoreCase), DifyAuthFailure.PasswordEncoding, (f, _, _, _) => $"Dify could not decode the password (sent {(f.Base64 ? "Base64-encoded" : "as plain text")}; server version {f.ServerVersion ?? "unknown"}). Set DIFY_PASSWORD_ENCODING={(f.Base64 ? "plain" : "base64")}. Each failed attempt counts towards Dify's 5-attempt lock."),
        new((s, c, _) => (s == 401 && c == "authentication_failed") || (s is 400 or 401 && c == "email_or_password_mismatch"), DifyAuthFailure.WrongCredentials, (f, s, code, _) => $"Dify rejected the e-mail or password of {f.Email} ({s} {code}). Check DIFY_EMAIL and DIFY_PASSWORD{(f.Base64 ? string.Empty : "; if Dify is 1.11 or later, also DIFY_PASSWORD_ENCODING=base64")}. Not retried: five failures lock the account for a day."),
        new((_, c, _) => c == "account_banned", DifyAuthFailure.AccountDisabled, (f, _, code, _) => $"The Dify account {f.Email} is banned or disabled ({code}). Ask a Dify admin to re-enable it."),
        new((s, _, _) => s == 403, DifyAuthFailure.PasswordLoginDisabled, (_, _, code, _) => $"Dify refused password login (403 {code}): e-mail/password login is disabled on this instance. Enable it, or use an admin key (DIFY_API_TOKEN + DIFY_WORKSPACE_ID)."),
        new((s, c, _) => s == 401 && c is "not_setup" or "not_init_validated", DifyAuthFailure.NotSetUp, (_, _, code, _) => $"Dify is not set up yet ({code}). Finish the installation wizard first."),
        new((s, _, _) => s is 401 or 400, DifyAuthFailure.WrongCredentials, (_, s, code, message) => $"Dify refused the login ({s} {code}: {message}). Check DIFY_EMAIL, DIFY_PASSWORD and DIFY_PASSWORD_ENCODING."),
    ];

    /// <summary>Each auth failure's kind, whether it is a verdict on the credentials, and its fix.</summary>
    private static readonly Dictionary<DifyAuthFailure, DifyFailure> ByAuthFailure = new()
    {
        [DifyAuthFailure.WrongCredentials] = new(DifyCheckFailure.WrongCredentials, "Check DIFY_EMAIL and DIFY_PASSWORD (log in to the Dify console with them by hand). Do not retry blindly: five failures lock the account for a day.", true),
        [DifyAuthFailure.PasswordEncoding] = new(DifyCheckFailure.PasswordEncoding, "Set DIFY_PASSWORD_ENCODING explicitly: base64 for Dify 1.11 and later, plain for older versions.", true),
        [DifyAuthFailure.AccountLocked] = new(DifyCheckFailure.AccountLocked, "Wait until Dify's login lock expires (LOGIN_LOCKOUT_DURATION, default 24 h) or have an admin clear it (Redis key of the login error rate limit); correct DIFY_PASSWORD before the next attempt.", true),
        [DifyAuthFailure.AccountDisabled] = new(DifyCheckFailure.AccountDisabled, "Ask a Dify admin to re-activate the account, or use another service account.", true),
        [DifyAuthFailure.NoWorkspace] = new(DifyCheckFailure.NoWorkspace, "Invite the account into the workspace to export (role editor or above), then run check again.", false),
        [DifyAuthFailure.WorkspaceNotFound] = new(DifyCheckFailure.WorkspaceNotFound, "Set DIFY_WORKSPACE_ID to one of the account's workspace ids (Dify: Settings → Workspace), or unset it to use the account's current workspace.", false),
        [DifyAuthFailure.PasswordLoginDisabled] = new(DifyCheckFailure.PasswordLoginDisabled, "Enable e-mail/password login in Dify (ENABLE_EMAIL_PASSWORD_LOGIN=true) or use an admin key (DIFY_API_TOKEN + DIFY_WORKSPACE_ID).", false),
        [DifyAuthFailure.NotSetUp] = new(DifyCheckFailure.NotSetUp, "Finish Dify's installation (/install) first.", false),
        [DifyAuthFailure.SessionRejected] = new(DifyCheckFailure.CookieCsrf, "Dify refused the session cookies or the X-CSRF-Token header. Make sure a reverse proxy forwards the Cookie and X-CSRF-Token request headers and the Set-Cookie response headers, and that DIFY_API_BASE_URL points at the console API origin Dify was configured with (CONSOLE_API_URL / COOKIE_DOMAIN).", false),
        [DifyAuthFailure.AdminKeyRejected] = new(DifyCheckFailure.AdminKeyRejected, "Check DIFY_API_TOKEN against Dify's ADMIN_API_KEY (ADMIN_API_KEY_ENABLE=true) and DIFY_WORKSPACE_ID; on cookie-era Dify without the admin-key CSRF exemption, use e-mail/password instead.", true),
    };

    /// <summary>Dify's refusal of the login POST as a failure kind and the operator's message.</summary>
    /// <param name="status">The HTTP status of the answer.</param>
    /// <param name="code">Dify's error code, if the body had one.</param>
    /// <param name="message">The masked description of the answer (status, code and Dify's message).</param>
    /// <param name="facts">What the message names.</param>
    internal static (DifyAuthFailure Failure, string Message) LoginRefusal(int status, string? code, string message, LoginFacts facts)
    {
        var row = LoginRows.FirstOrDefault(r => r.Matches(status, code, message));
        return row is null ? (DifyAuthFailure.Other, message) : (row.Failure, row.Message(facts, status, code, message));
    }

    /// <summary>A 401 that outlived the client's own session renewals.</summary>
    internal static string SessionRejectedMessage(string apiMessage) =>
        $"Dify keeps refusing the session after a fresh login ({apiMessage}). With cookie-era Dify this is usually a CSRF/cookie problem: a proxy dropping Cookie or X-CSRF-Token headers, or CONSOLE_API_URL/COOKIE_DOMAIN settings that do not match.";

    /// <summary>What <paramref name="ex"/> means for the operator (any exception; unknown ones are <see cref="DifyCheckFailure.Unknown"/>).</summary>
    public static DifyFailure Classify(Exception ex, ExporterSettings settings)
    {
        var host = settings.DifyBaseUrl?.Host ?? "(DIFY_API_BASE_URL)";
        switch (ex)
        {
            case ConfigurationException:
                return new(DifyCheckFailure.Configuration, "Fix the configuration variables named above (see `dify-usage-exporter config`).", false);
            case DifyAuthException auth:
                return ByAuthFailure.TryGetValue(auth.Failure, out var known) ? known : new(DifyCheckFailure.Unknown, "See the message above.", false);
        }

        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (Transport(e, host, settings) is { } transport)
            {
                return transport;
            }
        }

        return ex switch
        {
            DifyApiException { Code: "timeout" } => new(DifyCheckFailure.Timeout, $"{host} did not answer in time. Check that Dify is up, and raise DIFY_FETCH_TIMEOUT_MS if it is just slow.", false),
            DifyApiException api when api.StatusCode is 404 or 405 || api.Code == "bad_json" => new(DifyCheckFailure.NotDify, $"{settings.DifyBaseUrl} does not look like a Dify console API ({api.Path}: {api.StatusCode}). Set DIFY_API_BASE_URL to the Dify origin (the URL of the web console, without /console/api or /apps).", false),
            DifyApiException { StatusCode: 401 } => new(DifyCheckFailure.CookieCsrf, "Dify refused the session. Check that a proxy forwards Cookie, X-CSRF-Token and Set-Cookie headers unchanged.", false),
            DifyApiException api => new(DifyCheckFailure.HttpError, $"Dify answered an error ({api.StatusCode}). Check Dify's API container logs; 502/504 mean the proxy cannot reach the API container.", false),
            HttpRequestException => new(DifyCheckFailure.ConnectionRefused, $"Cannot connect to {settings.DifyBaseUrl}. Check the URL and that Dify is reachable from here.", false),
            _ => new(DifyCheckFailure.Unknown, "See the message above.", false),
        };
    }

    /// <summary>DNS, refused connections, TLS and timeouts, found anywhere in the exception chain.</summary>
    private static DifyFailure? Transport(Exception e, string host, ExporterSettings settings) => e switch
    {
        AuthenticationException => new(DifyCheckFailure.Tls, $"The TLS certificate of {host} is not trusted. Set DIFY_CA_CERT_FILE to the PEM of the CA that signed it (or, only for a test, DIFY_TLS_INSECURE=true). Also check that the URL's host name matches the certificate.", false),
        TimeoutException => new(DifyCheckFailure.Timeout, $"{host} did not answer in time. Check that Dify is up and not overloaded, firewall rules, and raise DIFY_FETCH_TIMEOUT_MS if Dify is just slow.", false),
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain } => new(DifyCheckFailure.Dns, $"The host name {host} cannot be resolved. Check DIFY_API_BASE_URL and the DNS of this machine/container (inside Docker use the service name or host.docker.internal).", false),
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => new(DifyCheckFailure.ConnectionRefused, $"Nothing accepts connections at {settings.DifyBaseUrl}. Check the port in DIFY_API_BASE_URL and that Dify (nginx) is running and reachable from here.", false),
        SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.HostUnreachable or SocketError.NetworkUnreachable } socket => new(DifyCheckFailure.Timeout, $"{host} is unreachable ({socket.SocketErrorCode}). Check routing/firewall between this machine and Dify.", false),
        HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } => new(DifyCheckFailure.Dns, $"The host name {host} cannot be resolved. Check DIFY_API_BASE_URL and DNS.", false),
        HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } => new(DifyCheckFailure.Tls, $"The TLS handshake with {host} failed. If Dify uses a self-signed certificate set DIFY_CA_CERT_FILE; if Dify speaks plain HTTP use an http:// URL.", false),
        _ => null,
    };
}
