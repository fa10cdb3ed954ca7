namespace DifyUsageExporter.Tests.Support;

/// <summary>
/// An <see cref="ILoggerFactory"/> whose loggers are <see cref="FakeLogger"/>s writing to one
/// <see cref="FakeLogCollector"/>; every level is recorded. <see cref="Lines"/> renders each record as
/// <c>{Level} {EventId} {message} {structured values} {exception}</c> for assertions such as
/// "no secret leaked" (values and exception text included on purpose).
/// </summary>
public sealed class FakeLogs : ILoggerFactory
{
    public FakeLogs() => Provider = new FakeLoggerProvider(Collector);

    public FakeLogCollector Collector { get; } = new();

    /// <summary>For a <c>LoggerFactory.Create(b => b.AddProvider(...))</c> of the code under test.</summary>
    public FakeLoggerProvider Provider { get; }

    public IReadOnlyList<string> Lines => Collector.GetSnapshot().Select(Render).ToList();

    public string AllText => string.Join("\n", Lines);

    public ILogger CreateLogger(string categoryName) => Provider.CreateLogger(categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose() => Provider.Dispose();

    private static string Render(FakeLogRecord r)
    {
        var values = r.StructuredState is { } state ? string.Join(" ", state.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
        return $"{r.Level} {r.Id.Id} {r.Message} {values} {r.Exception}";
    }
}
