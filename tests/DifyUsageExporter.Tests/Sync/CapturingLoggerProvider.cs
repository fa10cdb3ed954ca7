using System.Collections.Concurrent;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>Collects every formatted log message (and exception text) for assertions such as "no secret leaked".</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> lines = new();

    public IReadOnlyList<string> Lines => lines.ToList();

    public ILogger CreateLogger(string categoryName) => new Capture(lines);

    public void Dispose()
    {
    }

    private sealed class Capture(ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {eventId.Id} {formatter(state, exception)} {exception}");
    }
}
