using DifyUsageExporter.Usage;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>
/// A store slower than the fetchers (a large backfill on a slow disk): the fetchers wait for it
/// instead of each holding a full batch in memory, so memory stays flat however much history there is.
/// </summary>
public class WriteBackPressureTests
{
    private static readonly DateOnly From = new(2026, 3, 2);
    private static readonly DateOnly To = new(2026, 3, 13);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Fetchers_wait_for_a_slow_store_and_never_queue_more_than_two_batches()
    {
        // Many small sources across several apps read at once: each app fills a batch (512 sources)
        // long before a 150 ms write finishes.
        var workspace = WorkspaceGenerator.Generate(new GeneratorOptions
        {
            Seed = 71,
            ChatApps = 4,
            AgentChatApps = 0,
            CompletionApps = 0,
            AdvancedChatApps = 0,
            WorkflowApps = 2,
            RunsPerWorkflowApp = 600,
            ArchivedApps = 0,
            UnknownModeApps = false,
            DebugRunsPerApp = 0,
            ConversationsPerApp = 150,
            MaxMessagesPerConversation = 12,
        });
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Workspace = workspace }, Ct);
        using var run = new SimHarness(sim, tweak: s => s with { DifyFetchConcurrency = 16 });
        var slow = new SlowLedger(run.Store, TimeSpan.FromMilliseconds(150));
        using var source = DifyUsageExporter.Dify.DifyUsageSource.Create(run.Settings, slow, run.Logs, run.Time, run.Secrets);

        var report = await source.ExtractAsync(From, To, fullRead: true, Ct);

        report.Failures.ShouldBeEmpty();
        SimHarness.Compare(await run.EventsAsync(From, To), sim.Truth.EventsIn(sim.AccountZone, From, To), sim.AccountZone).ShouldBeEmpty();
        slow.Writes.ShouldBeGreaterThan(6, "precondition: the store, not Dify, was the bottleneck for several batches");
        slow.MaxWaiting.ShouldBeLessThanOrEqualTo(2);
    }

    /// <summary>The real store behind a fixed delay per batch write; counts the batches handed to it and not yet written.</summary>
    private sealed class SlowLedger(ILedgerWriter inner, TimeSpan delay) : ILedgerWriter
    {
        private readonly SemaphoreSlim gate = new(1, 1);
        private int waiting;
        private int maxWaiting;
        private int writes;

        public int MaxWaiting => Volatile.Read(ref maxWaiting);

        public int Writes => Volatile.Read(ref writes);

        public async Task ReplaceSourcesAsync(IReadOnlyDictionary<string, IReadOnlyList<UsageEvent>> sources, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref waiting);
            int seen;
            while (now > (seen = Volatile.Read(ref maxWaiting)) && Interlocked.CompareExchange(ref maxWaiting, now, seen) != seen)
            {
            }

            try
            {
                // One write at a time, like SQLite's single writer.
                await gate.WaitAsync(cancellationToken);
                try
                {
                    await Task.Delay(delay, TimeProvider.System, cancellationToken);
                    await inner.ReplaceSourcesAsync(sources, cancellationToken);
                    Interlocked.Increment(ref writes);
                }
                finally
                {
                    gate.Release();
                }
            }
            finally
            {
                Interlocked.Decrement(ref waiting);
            }
        }

        public Task<string?> ReadStateAsync(string key, CancellationToken cancellationToken) => inner.ReadStateAsync(key, cancellationToken);

        public Task WriteStateAsync(string key, string value, CancellationToken cancellationToken) => inner.WriteStateAsync(key, value, cancellationToken);

        public Task DeleteStateAsync(string key, CancellationToken cancellationToken) => inner.DeleteStateAsync(key, cancellationToken);

        public IAsyncEnumerable<UsageEvent> ReadEventsAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken) => inner.ReadEventsAsync(from, to, cancellationToken);

        public Task RecordDayExtractionsAsync(IEnumerable<DayExtraction> days, CancellationToken cancellationToken) => inner.RecordDayExtractionsAsync(days, cancellationToken);

        public Task<IReadOnlyDictionary<DateOnly, DayExtraction>> ReadDayExtractionsAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken) => inner.ReadDayExtractionsAsync(from, to, cancellationToken);

        public Task<IReadOnlyList<AppWatermark>> ReadWatermarksAsync(CancellationToken cancellationToken) => inner.ReadWatermarksAsync(cancellationToken);

        public Task SetWatermarkAsync(string appId, string appName, DateTimeOffset watermark, CancellationToken cancellationToken) => inner.SetWatermarkAsync(appId, appName, watermark, cancellationToken);

        public Task SaveUnknownModeAppsAsync(IReadOnlyList<string> apps, CancellationToken cancellationToken) => inner.SaveUnknownModeAppsAsync(apps, cancellationToken);

        public Task<IReadOnlyList<string>> ReadUnknownModeAppsAsync(CancellationToken cancellationToken) => inner.ReadUnknownModeAppsAsync(cancellationToken);
    }
}
