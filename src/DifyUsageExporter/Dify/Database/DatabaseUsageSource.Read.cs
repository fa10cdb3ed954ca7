using System.Data;
using System.Text.Json;
using DifyUsageExporter.Usage;
using Npgsql;
using static DifyUsageExporter.Dify.Database.DatabaseRows;

namespace DifyUsageExporter.Dify.Database;

public sealed partial class DatabaseUsageSource
{
    private static readonly HashSet<string> MessageModes = new(StringComparer.Ordinal) { "chat", "agent-chat", "completion", "advanced-chat", "agent" };

    /// <summary>
    /// Every message of the message-based apps in [read start, window end), with the node rows of an
    /// advanced-chat message's run (joined through <c>workflow_runs</c>, whose <c>workflow_id</c> completes
    /// Dify's node index). Exclusions as the console source: debugger conversations of advanced-chat apps
    /// (Dify's conversation list leaves them out) and debugger messages of agent apps (the agent log does);
    /// chat, agent-chat and completion messages all count, Studio previews included, because the console
    /// cannot tell them apart (docs/usage-semantics.md §1) and both sources must agree.
    /// </summary>
    private async Task ReadMessagesAsync(DatabaseRun run, string tenantId, DateTimeOffset readFrom, CancellationToken cancellationToken)
    {
        var apps = run.Targets.Values.Where(t => MessageModes.Contains(t.Info.Mode)).ToList();
        if (apps.Count == 0)
        {
            return;
        }

        const string Sql = """
            SELECT m.id::text, m.app_id::text, m.created_at, m.message_tokens::bigint, m.answer_tokens::bigint, m.total_price, m.currency,
                   m.message_metadata::text, m.from_end_user_id::text, m.from_account_id::text, m.status, m.workflow_run_id::text,
                   c.from_end_user_id::text, c.from_account_id::text,
                   n.id::text, n.node_id, n.node_type, n.process_data::text, n.outputs::text, n.execution_metadata::text
            FROM messages m
            JOIN conversations c ON c.id = m.conversation_id
            LEFT JOIN workflow_runs r ON r.id = m.workflow_run_id AND r.tenant_id = @tenant::uuid
            LEFT JOIN workflow_node_executions n ON n.tenant_id = r.tenant_id AND n.app_id = r.app_id
                 AND n.workflow_id = r.workflow_id AND n.workflow_run_id = r.id AND n.triggered_from <> 'single-step'
            WHERE m.app_id = ANY (@apps::uuid[]) AND m.created_at >= @start AND m.created_at < @end
              AND NOT (m.app_id = ANY (@advanced::uuid[]) AND coalesce(c.invoke_from, '') = 'debugger')
              AND NOT (m.app_id = ANY (@agents::uuid[]) AND coalesce(m.invoke_from, '') = 'debugger')
            ORDER BY m.created_at, m.id, n.index, n.id
            """;
        string? current = null;
        DifyMessage? message = null;
        string? appId = null, status = null, currency = null, conversationEndUser = null, conversationAccount = null, metadata = null;
        decimal? price = null;
        DateTime created = default;
        var nodes = new List<NodeRow>();
        await StreamAsync(Sql, p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("apps", apps.Select(a => a.Info.Id).ToArray());
            p.AddWithValue("advanced", apps.Where(a => a.Info.Mode == "advanced-chat").Select(a => a.Info.Id).ToArray());
            p.AddWithValue("agents", apps.Where(a => a.Info.Mode == "agent").Select(a => a.Info.Id).ToArray());
            p.Add(Timestamp("start", readFrom));
            p.Add(Timestamp("end", run.Window.End));
        }, run, async (r, ct) =>
        {
            var id = r.GetString(0);
            if (id != current)
            {
                if (message is not null)
                {
                    await MessageAsync().ConfigureAwait(false);
                }

                current = id;
                appId = r.GetString(1);
                created = r.GetDateTime(2);
                message = new DifyMessage
                {
                    Id = id,
                    MessageTokens = r.IsDBNull(3) ? 0 : r.GetInt64(3),
                    AnswerTokens = r.IsDBNull(4) ? 0 : r.GetInt64(4),
                };
                price = r.IsDBNull(5) ? null : r.GetDecimal(5);
                currency = Text(r, 6);
                metadata = Text(r, 7);
                message.FromEndUserId = Text(r, 8);
                message.FromAccountId = Text(r, 9);
                status = Text(r, 10);
                message.WorkflowRunId = Text(r, 11);
                conversationEndUser = Text(r, 12);
                conversationAccount = Text(r, 13);
                nodes.Clear();
            }

            if (Text(r, 14) is { } nodeId)
            {
                nodes.Add(new NodeRow(nodeId, Text(r, 15), Text(r, 16), Text(r, 17), Text(r, 18), Text(r, 19)));
            }
        }, cancellationToken).ConfigureAwait(false);
        if (message is not null)
        {
            await MessageAsync().ConfigureAwait(false);
        }

        async Task MessageAsync()
        {
            var target = run.Targets[appId!];
            var at = Instant(created);
            if (!run.InRange(target, at))
            {
                return;
            }

            IReadOnlyList<UsageEvent> events;
            try
            {
                events = MessageEvents(run, target, message!, at, metadata, price, currency, status, conversationEndUser, conversationAccount, nodes);
            }
            catch (JsonException ex)
            {
                var reason = ex is RowJsonException ? ex.Message : $"messages row {message!.Id}: {ex.Message}";
                DifyLog.ItemFailed(logger, target.Info.Name, target.Info.Id, "message", message!.Id!, reason);
                run.Fail(target, at, reason);
                return;
            }

            await run.AddAsync(message!.Id!, events, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One message → its events, by the console source's rules for the app's mode.</summary>
    private static IReadOnlyList<UsageEvent> MessageEvents(DatabaseRun run, DatabaseTarget target, DifyMessage message, DateTimeOffset at, string? metadata, decimal? price, string? currency, string? status, string? conversationEndUser, string? conversationAccount, List<NodeRow> nodes)
    {
        var app = target.Info;
        var zone = run.Window.Zone;
        if (app.Mode == "agent")
        {
            // The agent log's row: message_tokens, answer_tokens, total_price, currency (api/services/agent/observability_service.py).
            var agentMessage = new DifyAgentMessage
            {
                Id = message.Id,
                Status = status,
                FromEndUserId = message.FromEndUserId,
                FromAccountId = message.FromAccountId,
                MessageTokens = Number(message.MessageTokens ?? 0),
                AnswerTokens = Number(message.AnswerTokens ?? 0),
                TotalPrice = Price(price),
                Currency = currency,
                CreatedAt = at,
            };
            var agentEvent = DifyAgentUsage.FromMessage(app, agentMessage, at, zone);
            if (agentEvent is null && status is not ("error" or "failed"))
            {
                run.CountZeroUsage(target, at);
            }

            return agentEvent is null ? [] : [agentEvent];
        }

        message.Metadata = Json(metadata, "messages", message.Id!, "message_metadata");
        if (app.Mode != "advanced-chat")
        {
            return DifyUsageMapper.FromMessage(app, message, conversationEndUser, conversationAccount, at, zone) is { } single ? [single] : [];
        }

        var (userId, userType) = DifyUsageMapper.MessageUser(message, conversationEndUser, conversationAccount);
        var events = string.IsNullOrEmpty(message.WorkflowRunId)
            ? []
            : DifyUsageMapper.FromNodes(app, nodes.Select(Node).ToList(), message.Id!, userId, userType, at, zone);
        if (events.Count == 0 && DifyUsageMapper.FromMessageFallback(app, message, userId, userType, at, zone) is { } fallback)
        {
            events.Add(fallback);
        }

        return events;
    }

    /// <summary>Runs one streamed query: rows are handed over one at a time (sequential access), never buffered.</summary>
    private async Task StreamAsync(string sql, Action<NpgsqlParameterCollection> parameters, DatabaseRun run, Func<NpgsqlDataReader, CancellationToken, Task> row, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
            parameters(command.Parameters);
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                run.RowsRead++;
                await row(reader, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw DifyDatabaseException.From(ex, database.Target);
        }
    }
}
