using System.Globalization;

namespace DifyUsageExporter.Dify;

public sealed partial class DifyConsoleClient
{
    /// <summary>Every page of <c>GET /console/api/agent</c>; null on a 404 (no Agent runtime), see <see cref="ListAgentAppsAsync"/>.</summary>
    private async Task<IReadOnlyList<DifyAgentApp>?> ReadAgentAppsAsync(CancellationToken cancellationToken)
    {
        var agents = new List<DifyAgentApp>();
        try
        {
            await foreach (var agent in PagesAsync(page => $"/console/api/agent?page={page}&limit={PageSize}", DifyJson.Default.DifyPageDifyAgentApp, cancellationToken).ConfigureAwait(false))
            {
                agents.Add(agent);
            }
        }
        catch (DifyApiException ex) when (ex.StatusCode == 404 && agents.Count == 0)
        {
            return null;
        }

        return agents;
    }

    /// <summary>
    /// The agent's own conversations (<c>sources=webapp</c>: Dify leaves its debugger messages out,
    /// and the rows of workflow agent nodes, which are counted from their workflow, are not asked
    /// for), with a message since <paramref name="start"/> (account-zone wall clock).
    /// </summary>
    internal IAsyncEnumerable<DifyAgentLogRow> ListAgentLogsAsync(string agentId, string start, CancellationToken cancellationToken)
    {
        var id = Uri.EscapeDataString(agentId);
        var s = Uri.EscapeDataString(start);
        return PagesAsync(page => $"/console/api/agent/{id}/logs?page={page}&limit={PageSize}&sources=webapp&sort_by=created_at&sort_order=desc&start={s}", DifyJson.Default.DifyPageDifyAgentLogRow, cancellationToken);
    }

    /// <summary>The production messages of one agent conversation since <paramref name="start"/>.</summary>
    internal IAsyncEnumerable<DifyAgentMessage> ListAgentMessagesAsync(string agentId, string conversationId, string start, CancellationToken cancellationToken)
    {
        var id = Uri.EscapeDataString(agentId);
        var c = Uri.EscapeDataString(conversationId);
        var s = Uri.EscapeDataString(start);
        return PagesAsync(page => $"/console/api/agent/{id}/logs/{c}/messages?page={page}&limit={PageSize}&sources=webapp&sort_by=created_at&sort_order=asc&start={s}", DifyJson.Default.DifyPageDifyAgentMessage, cancellationToken);
    }

    /// <summary>
    /// One page of a knowledge pipeline's runs (production and preview together), newest first;
    /// the next page is <c>last_id</c> = the page's last item.
    /// </summary>
    internal Task<DifyRunList> GetPipelineRunsPageAsync(string pipelineId, string? lastId, CancellationToken cancellationToken)
    {
        var path = $"/console/api/rag/pipelines/{Uri.EscapeDataString(pipelineId)}/workflow-runs?limit={PageSize}";
        if (lastId is not null)
        {
            path += "&last_id=" + Uri.EscapeDataString(lastId);
        }

        return SendAsync(HttpMethod.Get, path, null, DifyJson.Default.DifyRunList, cancellationToken);
    }

    /// <summary>Node executions of a knowledge pipeline run.</summary>
    internal async Task<IReadOnlyList<DifyNodeExecution>> GetPipelineNodeExecutionsAsync(string pipelineId, string runId, CancellationToken cancellationToken)
    {
        var list = await SendAsync(HttpMethod.Get, $"/console/api/rag/pipelines/{Uri.EscapeDataString(pipelineId)}/workflow-runs/{Uri.EscapeDataString(runId)}/node-executions", null, DifyJson.Default.DifyNodeExecutionList, cancellationToken).ConfigureAwait(false);
        return list.Data ?? [];
    }

    /// <summary>
    /// Dify's own daily statistics of an app for [start, end) (account-zone wall clock): message
    /// <c>statistics/token-costs</c>, or <c>workflow/statistics/token-costs</c> (app-run runs only).
    /// </summary>
    internal async Task<IReadOnlyList<DifyStatisticsRow>> GetTokenCostsAsync(string appId, bool workflow, string start, string end, CancellationToken cancellationToken)
    {
        var kind = workflow ? "workflow/statistics" : "statistics";
        var path = string.Create(CultureInfo.InvariantCulture, $"/console/api/apps/{Uri.EscapeDataString(appId)}/{kind}/token-costs?start={Uri.EscapeDataString(start)}&end={Uri.EscapeDataString(end)}");
        var result = await SendAsync(HttpMethod.Get, path, null, DifyJson.Default.DifyStatistics, cancellationToken).ConfigureAwait(false);
        return result.Data ?? [];
    }

    /// <summary>An agent app's daily statistics (<c>statistics/summary</c>, <c>charts.token_usage</c>) for one source filter.</summary>
    internal async Task<IReadOnlyList<DifyStatisticsRow>> GetAgentStatisticsAsync(string agentId, string source, string start, string end, CancellationToken cancellationToken)
    {
        var path = $"/console/api/agent/{Uri.EscapeDataString(agentId)}/statistics/summary?source={Uri.EscapeDataString(source)}&start={Uri.EscapeDataString(start)}&end={Uri.EscapeDataString(end)}";
        var result = await SendAsync(HttpMethod.Get, path, null, DifyJson.Default.DifyAgentSummary, cancellationToken).ConfigureAwait(false);
        return result.Charts?.TokenUsage ?? [];
    }
}
