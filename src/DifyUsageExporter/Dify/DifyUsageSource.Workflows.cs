using System.Text.Json;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Dify;

/// <summary>Completion and workflow apps: completion messages and production workflow runs (workflow-app-logs) with their node executions.</summary>
public sealed partial class DifyUsageSource
{
    private async Task ExtractCompletionAsync(AppScope scope, CancellationToken cancellationToken)
    {
        var conversations = client.ListConversationsAsync(scope.App.Id, completion: true, ConversationStart(scope), cancellationToken);
        await Parallel.ForEachAsync(conversations, Parallelism(cancellationToken), async (conversation, ct) =>
        {
            if (string.IsNullOrEmpty(conversation.Id))
            {
                return;
            }

            // Completion conversations hold one message created with the conversation: skip
            // those clearly outside the range without a detail call.
            if (conversation.CreatedAt is { } created && (created >= scope.Run.Window.End || created < scope.ReadFrom - FilterMargin))
            {
                return;
            }

            try
            {
                var detail = await client.GetCompletionConversationAsync(scope.App.Id, conversation.Id, ct).ConfigureAwait(false);
                var message = detail.Message;
                var at = message?.CreatedAt ?? detail.CreatedAt ?? conversation.CreatedAt;
                if (message is null || string.IsNullOrEmpty(message.Id) || at is null || !scope.InRange(at.Value))
                {
                    return;
                }

                var events = Single(DifyUsageMapper.FromMessage(scope.App, message, detail.FromEndUserId ?? conversation.FromEndUserId, detail.FromAccountId ?? conversation.FromAccountId, at.Value, scope.Run.Window.Zone));
                await scope.AddAsync(message.Id, events, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DifyApiException or JsonException && !ct.IsCancellationRequested)
            {
                DifyLog.ItemFailed(logger, scope.App.Name, scope.App.Id, "conversation", conversation.Id, ex.Message);
                var at = conversation.CreatedAt ?? scope.ReadFrom;
                scope.Fail(at, conversation.CreatedAt ?? scope.Run.Window.End, $"conversation {conversation.Id}: {ex.Message}");
            }
        }).ConfigureAwait(false);
    }

    /// <summary>Workflow apps: production runs from workflow-app-logs (never /workflow-runs, which lists Studio debug runs).</summary>
    private async Task ExtractWorkflowAsync(AppScope scope, CancellationToken cancellationToken)
    {
        var logs = client.ListWorkflowAppLogsAsync(scope.App.Id, scope.ReadFrom - FilterMargin, scope.Run.Window.End + LogEndMargin, cancellationToken);
        await Parallel.ForEachAsync(logs, Parallelism(cancellationToken), async (log, ct) =>
        {
            var run = log.WorkflowRun;
            var at = run?.CreatedAt ?? log.CreatedAt;
            if (run is null || string.IsNullOrEmpty(run.Id) || at is null || !scope.InRange(at.Value))
            {
                return;
            }

            IReadOnlyList<DifyNodeExecution> nodes;
            try
            {
                nodes = await client.GetNodeExecutionsAsync(scope.App.Id, run.Id, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DifyApiException or JsonException && !ct.IsCancellationRequested)
            {
                DifyLog.ItemFailed(logger, scope.App.Name, scope.App.Id, "workflow run", run.Id, ex.Message);
                scope.Fail(at.Value, at.Value, $"run {run.Id}: {ex.Message}");
                return;
            }

            var (userId, userType) = DifyUsageMapper.LogUser(log);
            if (userType == DifyUsageMapper.Unknown)
            {
                var creator = nodes.FirstOrDefault(n => n.CreatedByEndUser?.Id is not null || n.CreatedByAccount?.Id is not null);
                if (creator?.CreatedByEndUser?.Id is { } endUser)
                {
                    (userId, userType) = (endUser, "end_user");
                }
                else if (creator?.CreatedByAccount?.Id is { } account)
                {
                    (userId, userType) = (account, "account");
                }
            }

            var events = DifyUsageMapper.FromNodes(scope.App, nodes, run.Id, userId, userType, at.Value, scope.Run.Window.Zone);
            if (events.Count == 0 && DifyUsageMapper.FromRunFallback(scope.App, run, userId, userType, at.Value, scope.Run.Window.Zone) is { } fallback)
            {
                DifyLog.RunWithoutNodeUsage(logger, scope.App.Name, scope.App.Id, run.Id, fallback.InputTokens);
                events.Add(fallback);
            }

            var (source, marked) = TriggerSource(run, events);
            await scope.AddAsync(source, marked, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private static IReadOnlyList<UsageEvent> Single(UsageEvent? usageEvent) => usageEvent is null ? [] : [usageEvent];
}
