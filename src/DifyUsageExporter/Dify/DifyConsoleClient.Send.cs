using System.Net;
using System.Text.Json.Serialization.Metadata;

namespace DifyUsageExporter.Dify;

/// <summary>The authenticated send: credentials on every request, the session renewed on 401 (refresh, else login) and the request sent again, and the workspace switch after login.</summary>
public sealed partial class DifyConsoleClient
{
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
