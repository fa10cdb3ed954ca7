using System.Net.Sockets;
using System.Security.Authentication;
using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Dify;

/// <summary>The failure classes <c>check</c> diagnoses, each with its likely fix.</summary>
public enum DifyCheckFailure
{
    None,
    Configuration,
    Dns,
    ConnectionRefused,
    Timeout,
    Tls,
    NotDify,
    HttpError,
    WrongCredentials,
    PasswordEncoding,
    AccountLocked,
    AccountDisabled,
    NoWorkspace,
    WorkspaceNotFound,
    PasswordLoginDisabled,
    NotSetUp,
    CookieCsrf,
    AdminKeyRejected,
    Unknown,
}

/// <summary>The outcome of <c>DifyDiagnostics.CheckAsync</c>.</summary>
public sealed record DifyCheckResult
{
    public bool Ok => Failure == DifyCheckFailure.None;
    public DifyCheckFailure Failure { get; init; }
    /// <summary>kebab-case name of <see cref="Failure"/> (stable, for --json and scripts).</summary>
    public string FailureClass => Failure == DifyCheckFailure.None ? "none" : DifyDiagnostics.Kebab(Failure);
    public string? Message { get; init; }
    public string? Fix { get; init; }
    public string? BaseUrl { get; init; }
    public string? Version { get; init; }
    public string? Era { get; init; }
    public string? PasswordEncoding { get; init; }
    public IReadOnlyList<string> CookieNames { get; init; } = [];
    public string? AccountEmail { get; init; }
    public string? AccountTimeZone { get; init; }
    public int? AppCount { get; init; }
    public IReadOnlyDictionary<string, int> AppsByMode { get; init; } = new Dictionary<string, int>();

    /// <summary>Apps of a mode that never carries usage (<c>channel</c>), as "name (mode)".</summary>
    public IReadOnlyList<string> NoUsageApps { get; init; } = [];

    /// <summary>Apps of a mode this exporter does not know: they will not be counted, as "name (mode)".</summary>
    public IReadOnlyList<string> UnknownModeApps { get; init; } = [];

    /// <summary>Agent apps of the Agent runtime (<c>/console/api/agent</c>); null when this Dify has none.</summary>
    public int? AgentApps { get; init; }

    /// <summary>Knowledge bases that run a knowledge pipeline (their production runs are counted).</summary>
    public int? KnowledgePipelines { get; init; }
}

/// <summary>
/// <c>check --dify</c>: connect, detect the version and auth era, log in, read the profile and
/// count apps; on failure a diagnosis per failure class with the likely fix. Other checks (the
/// <c>check --api-meter</c>) call this as a library.
/// </summary>
public static class DifyDiagnostics
{
    /// <summary>Runs the Dify check. Never throws for a Dify/network/configuration failure: it is reported in the result.</summary>
    public static Task<DifyCheckResult> CheckAsync(ExporterSettings settings, SecretRegistry secrets, ILoggerFactory loggerFactory, TimeProvider time, HttpMessageHandler? handler = null, CancellationToken cancellationToken = default) =>
        CheckAsync(settings, secrets, loggerFactory, time, null, handler, cancellationToken);

    /// <param name="guard">The state store's memory of rejected credentials: the check makes its one attempt anyway (bypass) and a success clears it.</param>
    public static async Task<DifyCheckResult> CheckAsync(ExporterSettings settings, SecretRegistry secrets, ILoggerFactory loggerFactory, TimeProvider time, DifyLoginGuard? guard, HttpMessageHandler? handler, CancellationToken cancellationToken)
    {
        var result = new DifyCheckResult { BaseUrl = settings.DifyBaseUrl?.ToString() };
        DifyConsoleClient? client = null;
        try
        {
            client = new DifyConsoleClient(settings, secrets, loggerFactory, time, handler) { LoginGuard = guard };
            result = result with { BaseUrl = client.BaseUrl };
            var version = await client.DetectVersionAsync(cancellationToken).ConfigureAwait(false);
            result = result with { Version = version };
            var info = await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
            result = result with { Version = info.Version, Era = Kebab(info.Era), PasswordEncoding = info.PasswordEncoding, CookieNames = info.CookieNames };
            var profile = await client.GetProfileAsync(cancellationToken).ConfigureAwait(false);
            result = result with { AccountEmail = profile.Email, AccountTimeZone = profile.Timezone };
            var byMode = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var count = 0;
            var noUsage = new List<string>();
            var unknown = new List<string>();
            var agents = await client.ListAgentAppsAsync(cancellationToken).ConfigureAwait(false);
            await foreach (var app in client.ListAppsAsync(cancellationToken).ConfigureAwait(false))
            {
                count++;
                var mode = app.Mode ?? "(none)";
                byMode[mode] = byMode.GetValueOrDefault(mode) + 1;
                var label = $"{app.Name ?? app.Id} ({mode})";
                if (DifyUsageSource.NoUsageModes.Contains(mode))
                {
                    noUsage.Add(label);
                }
                else if (!DifyUsageSource.KnownModes.Contains(mode) || (mode == "agent" && agents is null))
                {
                    unknown.Add(label);
                }
            }

            var pipelines = 0;
            await foreach (var dataset in client.ListDatasetsAsync(cancellationToken).ConfigureAwait(false))
            {
                pipelines += dataset.RuntimeMode == "rag_pipeline" && !string.IsNullOrEmpty(dataset.PipelineId) ? 1 : 0;
            }

            return result with { AppCount = count, AppsByMode = byMode, NoUsageApps = noUsage, UnknownModeApps = unknown, AgentApps = agents?.Count, KnowledgePipelines = pipelines };
        }
        catch (Exception ex) when (ex is DifyAuthException or DifyApiException or ConfigurationException or HttpRequestException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            // The check reports failures instead of throwing: that is its purpose.
            var (failure, fix) = Diagnose(ex, settings);
            var era = client?.ServerInfo;
            return result with
            {
                Failure = failure,
                Message = secrets.Mask(ex.Message),
                Fix = fix,
                Version = result.Version ?? era?.Version,
                PasswordEncoding = result.PasswordEncoding ?? era?.PasswordEncoding,
            };
        }
        finally
        {
            client?.Dispose();
        }
    }

    /// <summary>Maps an exception to a failure class and the likely fix.</summary>
    public static (DifyCheckFailure Failure, string Fix) Diagnose(Exception ex, ExporterSettings settings)
    {
        var host = settings.DifyBaseUrl?.Host ?? "(DIFY_API_BASE_URL)";
        switch (ex)
        {
            case ConfigurationException:
                return (DifyCheckFailure.Configuration, "Fix the configuration variables named above (see `dify-usage-exporter config`).");
            case DifyAuthException auth:
                return auth.Failure switch
                {
                    DifyAuthFailure.WrongCredentials => (DifyCheckFailure.WrongCredentials, "Check DIFY_EMAIL and DIFY_PASSWORD (log in to the Dify console with them by hand). Do not retry blindly: five failures lock the account for a day."),
                    DifyAuthFailure.PasswordEncoding => (DifyCheckFailure.PasswordEncoding, "Set DIFY_PASSWORD_ENCODING explicitly: base64 for Dify 1.11 and later, plain for older versions."),
                    DifyAuthFailure.AccountLocked => (DifyCheckFailure.AccountLocked, "Wait until Dify's login lock expires (LOGIN_LOCKOUT_DURATION, default 24 h) or have an admin clear it (Redis key of the login error rate limit); correct DIFY_PASSWORD before the next attempt."),
                    DifyAuthFailure.AccountDisabled => (DifyCheckFailure.AccountDisabled, "Ask a Dify admin to re-activate the account, or use another service account."),
                    DifyAuthFailure.NoWorkspace => (DifyCheckFailure.NoWorkspace, "Invite the account into the workspace to export (role editor or above), then run check again."),
                    DifyAuthFailure.WorkspaceNotFound => (DifyCheckFailure.WorkspaceNotFound, "Set DIFY_WORKSPACE_ID to one of the account's workspace ids (Dify: Settings → Workspace), or unset it to use the account's current workspace."),
                    DifyAuthFailure.PasswordLoginDisabled => (DifyCheckFailure.PasswordLoginDisabled, "Enable e-mail/password login in Dify (ENABLE_EMAIL_PASSWORD_LOGIN=true) or use an admin key (DIFY_API_TOKEN + DIFY_WORKSPACE_ID)."),
                    DifyAuthFailure.NotSetUp => (DifyCheckFailure.NotSetUp, "Finish Dify's installation (/install) first."),
                    DifyAuthFailure.SessionRejected => (DifyCheckFailure.CookieCsrf, "Dify refused the session cookies or the X-CSRF-Token header. Make sure a reverse proxy forwards the Cookie and X-CSRF-Token request headers and the Set-Cookie response headers, and that DIFY_API_BASE_URL points at the console API origin Dify was configured with (CONSOLE_API_URL / COOKIE_DOMAIN)."),
                    DifyAuthFailure.AdminKeyRejected => (DifyCheckFailure.AdminKeyRejected, "Check DIFY_API_TOKEN against Dify's ADMIN_API_KEY (ADMIN_API_KEY_ENABLE=true) and DIFY_WORKSPACE_ID; on cookie-era Dify without the admin-key CSRF exemption, use e-mail/password instead."),
                    _ => (DifyCheckFailure.Unknown, "See the message above."),
                };
        }

        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case AuthenticationException:
                    return (DifyCheckFailure.Tls, $"The TLS certificate of {host} is not trusted. Set DIFY_CA_CERT_FILE to the PEM of the CA that signed it (or, only for a test, DIFY_TLS_INSECURE=true). Also check that the URL's host name matches the certificate.");
                case TimeoutException:
                    return (DifyCheckFailure.Timeout, $"{host} did not answer in time. Check that Dify is up and not overloaded, firewall rules, and raise DIFY_FETCH_TIMEOUT_MS if Dify is just slow.");
                case SocketException socket when socket.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain:
                    return (DifyCheckFailure.Dns, $"The host name {host} cannot be resolved. Check DIFY_API_BASE_URL and the DNS of this machine/container (inside Docker use the service name or host.docker.internal).");
                case SocketException socket when socket.SocketErrorCode is SocketError.ConnectionRefused:
                    return (DifyCheckFailure.ConnectionRefused, $"Nothing accepts connections at {settings.DifyBaseUrl}. Check the port in DIFY_API_BASE_URL and that Dify (nginx) is running and reachable from here.");
                case SocketException socket when socket.SocketErrorCode is SocketError.TimedOut or SocketError.HostUnreachable or SocketError.NetworkUnreachable:
                    return (DifyCheckFailure.Timeout, $"{host} is unreachable ({socket.SocketErrorCode}). Check routing/firewall between this machine and Dify.");
                case HttpRequestException http when http.HttpRequestError == HttpRequestError.NameResolutionError:
                    return (DifyCheckFailure.Dns, $"The host name {host} cannot be resolved. Check DIFY_API_BASE_URL and DNS.");
                case HttpRequestException http when http.HttpRequestError == HttpRequestError.SecureConnectionError:
                    return (DifyCheckFailure.Tls, $"The TLS handshake with {host} failed. If Dify uses a self-signed certificate set DIFY_CA_CERT_FILE; if Dify speaks plain HTTP use an http:// URL.");
                default:
                    break;
            }
        }

        if (ex is DifyApiException api)
        {
            if (api.Code == "timeout")
            {
                return (DifyCheckFailure.Timeout, $"{host} did not answer in time. Check that Dify is up, and raise DIFY_FETCH_TIMEOUT_MS if it is just slow.");
            }

            if (api.StatusCode is 404 or 405 || api.Code == "bad_json")
            {
                return (DifyCheckFailure.NotDify, $"{settings.DifyBaseUrl} does not look like a Dify console API ({api.Path}: {api.StatusCode}). Set DIFY_API_BASE_URL to the Dify origin (the URL of the web console, without /console/api or /apps).");
            }

            if (api.StatusCode is 401)
            {
                return (DifyCheckFailure.CookieCsrf, "Dify refused the session. Check that a proxy forwards Cookie, X-CSRF-Token and Set-Cookie headers unchanged.");
            }

            return (DifyCheckFailure.HttpError, $"Dify answered an error ({api.StatusCode}). Check Dify's API container logs; 502/504 mean the proxy cannot reach the API container.");
        }

        if (ex is HttpRequestException)
        {
            return (DifyCheckFailure.ConnectionRefused, $"Cannot connect to {settings.DifyBaseUrl}. Check the URL and that Dify is reachable from here.");
        }

        return (DifyCheckFailure.Unknown, "See the message above.");
    }

    internal static string Kebab<T>(T value) where T : struct, Enum
    {
        var name = value.ToString();
        var builder = new System.Text.StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                builder.Append('-');
            }

            builder.Append(char.ToLowerInvariant(name[i]));
        }

        return builder.ToString();
    }
}
