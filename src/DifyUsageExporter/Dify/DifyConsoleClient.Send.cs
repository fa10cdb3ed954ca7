using System.Net;
using System.Text.Json.Serialization.Metadata;

namespace DifyUsageExporter.Dify;

/// <summary>The authenticated send (credentials and renewal live in <see cref="SessionHandler"/>) and the workspace switch after login.</summary>
public sealed partial class DifyConsoleClient
{
    /// <summary>
    /// An authenticated call: the session handler adds the credentials and renews the session on
    /// 401 (<see cref="SessionHandler"/>); a 401 that survives that is a <see cref="DifyAuthException"/>,
    /// any other error a <see cref="DifyApiException"/>.
    /// </summary>
    internal async Task<T> SendAsync<T>(HttpMethod method, string path, Func<HttpContent?>? content, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        using var request = NewRequest(method, path, content?.Invoke(), authenticated: true);
        using var response = await SendRawAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var api = await ToApiExceptionAsync(response, path, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new DifyAuthException(DifyAuthFailure.SessionRejected, DifyFailures.SessionRejectedMessage(api.Message), 401, api.Code, api);
            }

            throw api;
        }

        return await ReadJsonAsync(response, path, typeInfo, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A request with the credentials of <paramref name="s"/> written by hand (used while the auth gate is held, so never renewed).</summary>
    private HttpRequestMessage BuildAuthorized(HttpMethod method, string path, HttpContent? content, Session s)
    {
        var request = NewRequest(method, path, content);
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
        using var listRequest = BuildAuthorized(HttpMethod.Get, listPath, null, s);
        using var listResponse = await SendRawAsync(listRequest, cancellationToken).ConfigureAwait(false);
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
        using var switchRequest = BuildAuthorized(HttpMethod.Post, switchPath, Json(new DifySwitchRequest { TenantId = wanted }, DifyJson.Default.DifySwitchRequest), s);
        using var switchResponse = await SendRawAsync(switchRequest, cancellationToken).ConfigureAwait(false);
        if (!switchResponse.IsSuccessStatusCode)
        {
            var api = await ToApiExceptionAsync(switchResponse, switchPath, cancellationToken).ConfigureAwait(false);
            throw new DifyAuthException(DifyAuthFailure.WorkspaceNotFound, $"Dify refused to switch to workspace {wanted}: {api.Message}", api.StatusCode, api.Code, api);
        }

        DifyLog.WorkspaceSwitched(logger, wanted);
    }
}
