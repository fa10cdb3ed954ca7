using System.Globalization;
using System.Runtime.CompilerServices;

namespace DifyUsageExporter.Dify;

public sealed partial class DifyConsoleClient
{
    private int PageSize => Math.Clamp(settings.DifyFetchPageSize, 1, 100);

    /// <summary>GET /console/api/apps/{id} (model_config of chat modes).</summary>
    internal Task<DifyApp> GetAppAsync(string appId, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"/console/api/apps/{Uri.EscapeDataString(appId)}", null, DifyJson.Default.DifyApp, cancellationToken);

    /// <summary>
    /// chat-conversations (or completion-conversations) pages: page/limit (never last_id, which Dify
    /// ignores), <c>start</c> in the account time zone, no <c>end</c>, <c>sort_by=-updated_at</c>.
    /// </summary>
    internal IAsyncEnumerable<DifyConversation> ListConversationsAsync(string appId, bool completion, string start, CancellationToken cancellationToken)
    {
        var kind = completion ? "completion-conversations" : "chat-conversations";
        var sort = completion ? string.Empty : "&sort_by=-updated_at";
        var id = Uri.EscapeDataString(appId);
        var startQuery = Uri.EscapeDataString(start);
        return PagesAsync(page => $"/console/api/apps/{id}/{kind}?page={page}&limit={PageSize}&start={startQuery}{sort}", DifyJson.Default.DifyPageDifyConversation, cancellationToken);
    }

    /// <summary>GET completion-conversations/{id}: the conversation's single message with usage.</summary>
    internal Task<DifyConversationDetail> GetCompletionConversationAsync(string appId, string conversationId, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"/console/api/apps/{Uri.EscapeDataString(appId)}/completion-conversations/{Uri.EscapeDataString(conversationId)}", null, DifyJson.Default.DifyConversationDetail, cancellationToken);

    /// <summary>
    /// One page of chat-messages, paged backwards: no <paramref name="firstId"/> = the newest page;
    /// items oldest→newest; next page (older) = <c>first_id</c> of the page's first item.
    /// </summary>
    internal Task<DifyPage<DifyMessage>> GetMessagesPageAsync(string appId, string conversationId, string? firstId, CancellationToken cancellationToken)
    {
        var path = $"/console/api/apps/{Uri.EscapeDataString(appId)}/chat-messages?conversation_id={Uri.EscapeDataString(conversationId)}&limit={PageSize}";
        if (firstId is not null)
        {
            path += "&first_id=" + Uri.EscapeDataString(firstId);
        }

        return SendAsync(HttpMethod.Get, path, null, DifyJson.Default.DifyPageDifyMessage, cancellationToken);
    }

    /// <summary>workflow-app-logs (production runs), page/limit, ISO UTC <c>created_at__after/__before</c>.</summary>
    internal IAsyncEnumerable<DifyWorkflowAppLog> ListWorkflowAppLogsAsync(string appId, DateTimeOffset after, DateTimeOffset before, CancellationToken cancellationToken)
    {
        var id = Uri.EscapeDataString(appId);
        var a = Uri.EscapeDataString(Iso.InstantSeconds(after));
        var b = Uri.EscapeDataString(Iso.InstantSeconds(before));
        return PagesAsync(page => $"/console/api/apps/{id}/workflow-app-logs?page={page}&limit={PageSize}&created_at__after={a}&created_at__before={b}", DifyJson.Default.DifyPageDifyWorkflowAppLog, cancellationToken);
    }

    /// <summary>node-executions of one run (any run id; unknown → empty).</summary>
    internal async Task<IReadOnlyList<DifyNodeExecution>> GetNodeExecutionsAsync(string appId, string runId, CancellationToken cancellationToken)
    {
        var list = await SendAsync(HttpMethod.Get, $"/console/api/apps/{Uri.EscapeDataString(appId)}/workflow-runs/{Uri.EscapeDataString(runId)}/node-executions", null, DifyJson.Default.DifyNodeExecutionList, cancellationToken).ConfigureAwait(false);
        return list.Data ?? [];
    }

    /// <summary>The <c>YYYY-MM-DD HH:MM</c> wall-clock form Dify's start/end filters read in the account time zone.</summary>
    internal static string WallClock(DateTimeOffset instant, TimeZoneInfo accountZone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, accountZone).DateTime;
        if (accountZone.IsAmbiguousTime(local))
        {
            // Dify resolves an ambiguous wall-clock time to the later instant; step back an hour so
            // the filter never starts after the intended instant.
            local = local.AddHours(-1);
        }

        return local.ToString(Iso.DayFormat + " HH:mm", CultureInfo.InvariantCulture);
    }

    /// <summary>Walks page/limit pages until <c>has_more</c> is false (or a page comes back empty).</summary>
    private async IAsyncEnumerable<T> PagesAsync<T>(Func<int, string> pathOfPage, System.Text.Json.Serialization.Metadata.JsonTypeInfo<DifyPage<T>> typeInfo, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var page = 1; page <= 99999; page++)
        {
            var result = await SendAsync(HttpMethod.Get, pathOfPage(page), null, typeInfo, cancellationToken).ConfigureAwait(false);
            var data = result.Data ?? [];
            foreach (var item in data)
            {
                yield return item;
            }

            var more = result.HasMore ?? (result.Total is { } total ? total > (long)page * PageSize : data.Count >= PageSize);
            if (!more || data.Count == 0)
            {
                yield break;
            }
        }
    }
}
