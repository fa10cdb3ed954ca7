using System.Text.Json;
using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Dify;

/// <summary>Logging in: the admin-key session, the one e-mail/password POST per cycle (never retried), the version probe, and Dify's refusal turned into a failure kind by the table of DifyFailures.cs.</summary>
public sealed partial class DifyConsoleClient
{
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

    /// <summary>
    /// Remembers rejected credentials and Dify's account lock across cycles and restarts (null: no
    /// state store, e.g. in unit tests). See <see cref="DifyLoginGuard"/>.
    /// </summary>
    public DifyLoginGuard? LoginGuard { get; set; }

    /// <summary>The one e-mail/password login POST (never retried: marked as the login for AttemptHandler).</summary>
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
        using var request = NewRequest(HttpMethod.Post, path, Json(new DifyLoginRequest { Email = settings.DifyEmail!, Password = password!, RememberMe = false }, DifyJson.Default.DifyLoginRequest), login: true);
        using var response = await SendRawAsync(request, cancellationToken).ConfigureAwait(false);
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
        var (failure, text) = DifyFailures.LoginRefusal(status, api.Code, api.Message, new DifyFailures.LoginFacts(settings.DifyEmail, base64, serverVersion));
        return new DifyAuthException(failure, text, status, api.Code, api);
    }
}
