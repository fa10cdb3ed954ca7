using System.Collections.Concurrent;
using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Telemetry;

/// <summary>
/// Writes every log entry as one JSON object per line with exactly <c>timestamp</c> (ISO 8601 UTC,
/// milliseconds), <c>level</c> (error|warn|info|debug), <c>message</c> and <c>context</c>
/// (module, category, runId and other scope values, structured fields, exception). Every string
/// passes through <see cref="LogMasker"/>.
/// </summary>
public sealed class JsonLinesLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentDictionary<string, JsonLinesLogger> loggers = new(StringComparer.Ordinal);
    private readonly TextWriter writer;
    private readonly Lock writeLock = new();

    public JsonLinesLoggerProvider(TextWriter writer, LogLevel minimum, SecretRegistry secrets, TimeProvider time)
    {
        this.writer = writer;
        Minimum = minimum;
        Masker = new LogMasker(secrets);
        Time = time;
    }

    internal LogLevel Minimum { get; }

    internal LogMasker Masker { get; }

    internal TimeProvider Time { get; }

    internal IExternalScopeProvider Scopes { get; private set; } = new LoggerExternalScopeProvider();

    public ILogger CreateLogger(string categoryName) => loggers.GetOrAdd(categoryName, name => new JsonLinesLogger(name, this));

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => Scopes = scopeProvider;

    internal void WriteLine(string line)
    {
        lock (writeLock)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    public void Dispose()
    {
        lock (writeLock)
        {
            writer.Flush();
        }
    }
}
