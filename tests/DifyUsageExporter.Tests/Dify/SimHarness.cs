using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;
using Simulators.Dify;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>Runs the real extractor against a running simulator into a temp SQLite store.</summary>
public sealed class SimHarness : IDisposable
{
    private readonly TempDir dir = new();

    public SimHarness(DifySimulator sim, TimeProvider? time = null, Func<ExporterSettings, ExporterSettings>? tweak = null)
    {
        Sim = sim;
        Time = time ?? TimeProvider.System;
        var settings = new ExporterSettings
        {
            DifyBaseUrl = sim.BaseUrl,
            DifyEmail = sim.Options.Email,
            DifyPassword = sim.Options.Password,
            DifyFetchRetryCount = 1,
            DifyFetchRetryDelay = TimeSpan.FromMilliseconds(1),
            DifyFetchTimeout = TimeSpan.FromSeconds(30),
            DifyFetchConcurrency = 4,
            DataDir = dir.Path,
        };
        Settings = tweak?.Invoke(settings) ?? settings;
        Store = StateStore.Open(dir.Path, Time);
        Source = DifyUsageSource.Create(Settings, Store, Logs, Time, Secrets);
    }

    public DifySimulator Sim { get; }
    public TimeProvider Time { get; }
    public ExporterSettings Settings { get; }
    public FakeLogs Logs { get; } = new();
    public SecretRegistry Secrets { get; } = new();
    public StateStore Store { get; }
    public DifyUsageSource Source { get; }

    public Task<ExtractionReport> ExtractAsync(DateOnly from, DateOnly to, bool fullRead = true) =>
        Source.ExtractAsync(from, to, fullRead, Xunit.TestContext.Current.CancellationToken);

    public async Task<List<UsageEvent>> EventsAsync(DateOnly from, DateOnly to) =>
        await Store.ReadEventsAsync(from, to, Xunit.TestContext.Current.CancellationToken).ToListAsync(Xunit.TestContext.Current.CancellationToken);

    /// <summary>Event-by-event comparison with the generator's truth; returns every mismatch (empty = equal).</summary>
    public static List<string> Compare(IReadOnlyList<UsageEvent> actual, IEnumerable<TruthEvent> expected, TimeZoneInfo zone)
    {
        var problems = new List<string>();
        var exp = expected.ToDictionary(e => e.EventId, StringComparer.Ordinal);
        var act = actual.GroupBy(e => e.EventId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        foreach (var id in exp.Keys.Except(act.Keys).Take(10))
        {
            var e = exp[id];
            problems.Add($"missing {id} ({e.AppMode} {e.Source} {e.InputTokens}/{e.OutputTokens} {e.Cost} at {e.OccurredAt:o})");
        }

        foreach (var id in act.Keys.Except(exp.Keys).Take(10))
        {
            var a = act[id];
            problems.Add($"extra {id} ({a.AppMode} {a.InputTokens}/{a.OutputTokens} {a.Cost} at {a.OccurredAt:o} {a.Provider}/{a.Model})");
        }

        foreach (var (id, e) in exp)
        {
            if (!act.TryGetValue(id, out var a))
            {
                continue;
            }

            var mismatch = new List<string>();
            if (a.InputTokens != e.InputTokens || a.OutputTokens != e.OutputTokens)
            {
                mismatch.Add($"tokens {a.InputTokens}/{a.OutputTokens} vs {e.InputTokens}/{e.OutputTokens}");
            }

            if (a.Cost != e.Cost)
            {
                mismatch.Add($"cost {a.Cost} vs {e.Cost}");
            }

            if (ProviderModelNormalizer.NormalizeProvider(a.Provider) != ProviderModelNormalizer.NormalizeProvider(e.Provider)
                || ProviderModelNormalizer.NormalizeModel(a.Model) != ProviderModelNormalizer.NormalizeModel(e.Model))
            {
                mismatch.Add($"model {a.Provider}/{a.Model} vs {e.Provider}/{e.Model}");
            }

            if (a.UserId != e.UserId || a.UserType != e.UserType)
            {
                mismatch.Add($"user {a.UserType}:{a.UserId} vs {e.UserType}:{e.UserId}");
            }

            if (a.UsageDate != e.LocalDate(zone) || a.OccurredAt != e.OccurredAt)
            {
                mismatch.Add($"time {a.OccurredAt:o}/{a.UsageDate} vs {e.OccurredAt:o}/{e.LocalDate(zone)}");
            }

            if (!string.Equals(a.AppId, e.AppId.ToString(), StringComparison.OrdinalIgnoreCase) || a.AppMode != e.AppMode)
            {
                mismatch.Add($"app {a.AppId}/{a.AppMode} vs {e.AppId}/{e.AppMode}");
            }

            if (mismatch.Count > 0 && problems.Count < 30)
            {
                problems.Add($"{id} ({e.AppMode} {e.Source}): {string.Join("; ", mismatch)}");
            }
        }

        return problems;
    }

    /// <summary>Per-day totals of stored events: (requests, input, output, cost).</summary>
    public static Dictionary<DateOnly, (int N, long In, long Out, decimal Cost)> ByDay(IEnumerable<UsageEvent> events) =>
        events.GroupBy(e => e.UsageDate).ToDictionary(g => g.Key, g => (g.Count(), g.Sum(e => e.InputTokens), g.Sum(e => e.OutputTokens), g.Sum(e => e.Cost)));

    public static Dictionary<DateOnly, (int N, long In, long Out, decimal Cost)> ByDay(IEnumerable<TruthEvent> events, TimeZoneInfo zone) =>
        events.GroupBy(e => e.LocalDate(zone)).ToDictionary(g => g.Key, g => (g.Count(), g.Sum(e => e.InputTokens), g.Sum(e => e.OutputTokens), g.Sum(e => e.Cost)));

    public void Dispose()
    {
        Source.Dispose();
        Store.Dispose();
        dir.Dispose();
    }
}
