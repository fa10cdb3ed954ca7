using System.Text.Json;
using DifyUsageExporter.Telemetry;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Dify;

public sealed partial class DifyUsageSource
{
    /// <summary>Sources (messages, runs) buffered before one ledger transaction; bounds memory and write count.</summary>
    private const int FlushSources = 64;
    private const int FlushEvents = 1000;

    /// <summary>One app's extraction: its read range, failure flag and write buffer.</summary>
    private sealed class AppScope(ExtractionRun run, DifyAppInfo app, DateTimeOffset readFrom, ILedgerWriter store)
    {
        private readonly Lock gate = new();
        private Dictionary<string, IReadOnlyList<UsageEvent>> pending = new(StringComparer.Ordinal);
        private int pendingEvents;
        private long events;
        private volatile bool failed;

        public ExtractionRun Run { get; } = run;
        public DifyAppInfo App { get; set; } = app;
        public DateTimeOffset ReadFrom { get; } = readFrom;
        public bool Failed => failed;

        /// <summary>Usage events of this app read in this extraction (for its info line).</summary>
        public long Events => Interlocked.Read(ref events);

        /// <summary>True when the instant is in the window and not before this app's read start.</summary>
        public bool InRange(DateTimeOffset instant) => instant >= ReadFrom && Run.Window.Contains(instant);

        public void Fail(DateTimeOffset from, DateTimeOffset to, string reason)
        {
            failed = true;
            Run.Fail(App, from < ReadFrom ? ReadFrom : from, to, reason);
        }

        /// <summary>Queues one source's complete event list (empty = delete what the ledger has for it).</summary>
        public async Task AddAsync(string sourceId, IReadOnlyList<UsageEvent> events, CancellationToken cancellationToken)
        {
            Dictionary<string, IReadOnlyList<UsageEvent>>? batch = null;
            lock (gate)
            {
                pending[sourceId] = events;
                pendingEvents += events.Count;
                Interlocked.Add(ref this.events, events.Count);
                if (pending.Count >= FlushSources || pendingEvents >= FlushEvents)
                {
                    batch = Swap();
                }
            }

            if (batch is not null)
            {
                await WriteAsync(batch, cancellationToken).ConfigureAwait(false);
            }
        }

        public async Task FlushAsync(CancellationToken cancellationToken)
        {
            Dictionary<string, IReadOnlyList<UsageEvent>> batch;
            lock (gate)
            {
                batch = Swap();
            }

            await WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        }

        private Dictionary<string, IReadOnlyList<UsageEvent>> Swap()
        {
            var batch = pending;
            pending = new(StringComparer.Ordinal);
            pendingEvents = 0;
            return batch;
        }

        private async Task WriteAsync(Dictionary<string, IReadOnlyList<UsageEvent>> batch, CancellationToken cancellationToken)
        {
            if (batch.Count == 0)
            {
                return;
            }

            await store.ReplaceSourcesAsync(batch, cancellationToken).ConfigureAwait(false);
            Run.Stored(batch.Values.Sum(e => (long)e.Count));
        }
    }

    private ParallelOptions Parallelism(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = Math.Max(1, settings.DifyFetchConcurrency), CancellationToken = cancellationToken };

    private async Task ExtractAppAsync(ExtractionRun run, DifyApp wire, DateTimeOffset readFrom, CancellationToken cancellationToken)
    {
        var scope = new AppScope(run, new DifyAppInfo(wire.Id!, string.IsNullOrEmpty(wire.Name) ? wire.Id! : wire.Name, wire.Mode!, null, null), readFrom, store);
        DifyLog.ReadFrom(logger, scope.App.Name, scope.App.Id, readFrom, run.Window.Start);
        using var span = ExporterTracing.Source.StartActivity(ExporterTracing.AppSpan);
        span?.SetTag("dify.app.id", scope.App.Id);
        span?.SetTag("dify.app.name", scope.App.Name);
        span?.SetTag("dify.app.mode", wire.Mode);
        try
        {
            switch (wire.Mode)
            {
                case "workflow":
                    await ExtractWorkflowAsync(scope, cancellationToken).ConfigureAwait(false);
                    break;
                case "advanced-chat":
                    await ExtractChatAsync(scope, advanced: true, cancellationToken).ConfigureAwait(false);
                    break;
                case "agent":
                    await ExtractAgentAsync(scope, wire.BoundAgentId, cancellationToken).ConfigureAwait(false);
                    break;
                case PipelineMode when wire.IsPipeline:
                    await ExtractPipelineAsync(scope, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    // chat, agent-chat, completion: the model is the app's configured one. Every Dify
                    // version's /apps list carries model_config.model (app_partial_fields in
                    // api/fields/app_fields.py, from 0.x to 1.x), so the detail call is only made
                    // when a list item lacks it.
                    var (provider, model) = DifyUsageMapper.AppModel(wire.ModelConfig);
                    if (provider is null && model is null)
                    {
                        var detail = await client.GetAppAsync(scope.App.Id, cancellationToken).ConfigureAwait(false);
                        (provider, model) = DifyUsageMapper.AppModel(detail.ModelConfig);
                    }

                    scope.App = scope.App with { Provider = provider, Model = model };
                    if (wire.Mode == "completion")
                    {
                        await ExtractCompletionAsync(scope, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await ExtractChatAsync(scope, advanced: false, cancellationToken).ConfigureAwait(false);
                    }

                    break;
            }

            await scope.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DifyApiException or JsonException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            // One app's failure must not stop the others: record its whole read range as
            // incomplete and keep what was stored (each stored source is complete in itself).
            DifyLog.AppFailed(logger, scope.App.Name, scope.App.Id, ex.Message);
            ExporterTracing.Fail(span, ex.GetType().Name);
            scope.Fail(readFrom, run.Window.End, ex.Message);
            await scope.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        span?.SetTag("dify_exporter.events", scope.Events);
        DifyLog.AppExtracted(logger, scope.App.Name, scope.App.Id, wire.Mode ?? "?", scope.Events, scope.Failed ? "incomplete" : "complete");
        if (!scope.Failed)
        {
            // Advance only after everything is stored, never past (extraction start − settle)
            // nor past the window end, and never backwards.
            var next = run.Started - settings.DifySettle;
            if (next > run.Window.End)
            {
                next = run.Window.End;
            }

            if (!run.Watermarks.TryGetValue(scope.App.Id, out var existing) || next > existing)
            {
                await store.SetWatermarkAsync(scope.App.Id, scope.App.Name, next, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The conversation listing's <c>start</c>: read start − 1 h as wall-clock time in the account zone.</summary>
    private static string ConversationStart(AppScope scope)
    {
        var start = scope.ReadFrom - FilterMargin;
        return scope.Run.AccountZone is { } zone
            ? DifyConsoleClient.WallClock(start, zone)
            : DifyConsoleClient.WallClock(start - UnknownZoneMargin, TimeZoneInfo.Utc);
    }

    private async Task ExtractChatAsync(AppScope scope, bool advanced, CancellationToken cancellationToken)
    {
        var conversations = client.ListConversationsAsync(scope.App.Id, completion: false, ConversationStart(scope), cancellationToken);
        await Parallel.ForEachAsync(conversations, Parallelism(cancellationToken), async (conversation, ct) =>
        {
            if (string.IsNullOrEmpty(conversation.Id))
            {
                return;
            }

            try
            {
                await ExtractConversationAsync(scope, conversation, advanced, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DifyApiException or JsonException && !ct.IsCancellationRequested)
            {
                // The conversation's messages can lie anywhere between its creation and last update.
                DifyLog.ItemFailed(logger, scope.App.Name, scope.App.Id, "conversation", conversation.Id, ex.Message);
                scope.Fail(conversation.CreatedAt ?? scope.ReadFrom, conversation.UpdatedAt ?? scope.Run.Window.End, $"conversation {conversation.Id}: {ex.Message}");
            }
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Pages a conversation's messages backwards (first_id) until they are older than the read start.
    /// Advanced-chat: the node-executions calls of a page's messages all start at once (the shared
    /// concurrency limiter bounds what is really in flight) while the next page is fetched; events
    /// are then stored in page order, message by message, so the result never depends on timing.
    /// </summary>
    private async Task ExtractConversationAsync(AppScope scope, DifyConversation conversation, bool advanced, CancellationToken cancellationToken)
    {
        string? firstId = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<(string MessageId, Task<IReadOnlyList<UsageEvent>?> Events)>? previous = null;
        try
        {
            while (true)
            {
                var page = await client.GetMessagesPageAsync(scope.App.Id, conversation.Id!, firstId, cancellationToken).ConfigureAwait(false);
                if (previous is not null)
                {
                    await StoreAsync(scope, previous, cancellationToken).ConfigureAwait(false);
                    previous = null;
                }

                var data = page.Data ?? [];
                var pending = new List<(string, Task<IReadOnlyList<UsageEvent>?>)>(data.Count);
                foreach (var message in data)
                {
                    var at = message.CreatedAt ?? conversation.CreatedAt;
                    if (string.IsNullOrEmpty(message.Id) || at is null || !scope.InRange(at.Value))
                    {
                        continue;
                    }

                    var events = advanced
                        ? AdvancedChatEventsAsync(scope, conversation, message, at.Value, cancellationToken)
                        : Task.FromResult<IReadOnlyList<UsageEvent>?>(Single(DifyUsageMapper.FromMessage(scope.App, message, conversation.FromEndUserId, conversation.FromAccountId, at.Value, scope.Run.Window.Zone)));
                    pending.Add((message.Id, events));
                }

                previous = pending;
                if (data.Count == 0 || page.HasMore != true)
                {
                    return;
                }

                // Items are oldest→newest; the oldest one is the cursor to the previous page. Chosen by
                // time rather than position so a server ordering the page differently still advances.
                var oldest = data.Where(m => m.Id is not null).OrderBy(m => m.CreatedAt ?? DateTimeOffset.MaxValue).FirstOrDefault();
                if (oldest?.Id is null || !seen.Add(oldest.Id) || (oldest.CreatedAt is { } t && t < scope.ReadFrom))
                {
                    return;
                }

                firstId = oldest.Id;
            }
        }
        finally
        {
            if (previous is not null)
            {
                // Normal end: store the last page. After a failure: let its node calls finish (they
                // record their own failures) and keep what they read, as before.
                await StoreAsync(scope, previous, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Awaits a page's per-message event lists and queues them in message order.</summary>
    private static async Task StoreAsync(AppScope scope, List<(string MessageId, Task<IReadOnlyList<UsageEvent>?> Events)> messages, CancellationToken cancellationToken)
    {
        foreach (var (messageId, task) in messages)
        {
            if (await task.ConfigureAwait(false) is { } events)
            {
                await scope.AddAsync(messageId, events, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Advanced-chat: one event per node with usage of the message's run, attributed to the
    /// message's user and time; a message without node usage falls back to its own usage.
    /// Null = the run could not be read (the day is marked incomplete; stored data is kept).
    /// </summary>
    private async Task<IReadOnlyList<UsageEvent>?> AdvancedChatEventsAsync(AppScope scope, DifyConversation conversation, DifyMessage message, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var (userId, userType) = DifyUsageMapper.MessageUser(message, conversation.FromEndUserId, conversation.FromAccountId);
        var events = new List<UsageEvent>();
        if (!string.IsNullOrEmpty(message.WorkflowRunId))
        {
            try
            {
                var nodes = await client.GetNodeExecutionsAsync(scope.App.Id, message.WorkflowRunId, cancellationToken).ConfigureAwait(false);
                events = DifyUsageMapper.FromNodes(scope.App, nodes, message.Id!, userId, userType, at, scope.Run.Window.Zone);
            }
            catch (Exception ex) when (ex is DifyApiException or JsonException && !cancellationToken.IsCancellationRequested)
            {
                DifyLog.ItemFailed(logger, scope.App.Name, scope.App.Id, "workflow run", message.WorkflowRunId, ex.Message);
                scope.Fail(at, at, $"run {message.WorkflowRunId} of message {message.Id}: {ex.Message}");
                return null;
            }
        }

        if (events.Count == 0 && DifyUsageMapper.FromMessageFallback(scope.App, message, userId, userType, at, scope.Run.Window.Zone) is { } fallback)
        {
            events.Add(fallback);
        }

        return events;
    }

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
