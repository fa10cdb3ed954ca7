using System.Text.Json;
using DifyUsageExporter.Telemetry;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Dify;

public sealed partial class DifyUsageSource
{
    /// <summary>Sources (messages, runs) buffered before one ledger transaction; bounds memory and write count.</summary>
    private const int FlushSources = 512;
    private const int FlushEvents = 4096;

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
            await Run.WaitForWriterAsync(cancellationToken).ConfigureAwait(false);
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

            await Run.WriteAsync(store, batch, cancellationToken).ConfigureAwait(false);
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
}
