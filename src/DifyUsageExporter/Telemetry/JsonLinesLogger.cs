using System.Buffers;
using System.Text;
using System.Text.Json;

namespace DifyUsageExporter.Telemetry;

/// <summary>One category's logger of <see cref="JsonLinesLoggerProvider"/>.</summary>
internal sealed class JsonLinesLogger(string category, JsonLinesLoggerProvider provider) : ILogger
{
    private const string OriginalFormat = "{OriginalFormat}";
    private const string RootNamespace = "DifyUsageExporter.";

    // Readable quotes and '+' in log lines; still valid JSON (no HTML embedding concerns in a log).
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => provider.Scopes.Push(state);

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= provider.Minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var masker = provider.Masker;
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", Iso.Instant(provider.Time.GetUtcNow()));
            json.WriteString("level", LogLevels.Name(logLevel));
            json.WriteString("message", masker.Apply(MessageTemplate.TryRender(state) ?? formatter(state, exception)));
            json.WriteStartObject("context");
            json.WriteString("module", category.StartsWith(RootNamespace, StringComparison.Ordinal) ? category[RootNamespace.Length..] : category);
            if (eventId.Id != 0)
            {
                json.WriteNumber("eventId", eventId.Id);
            }

            var written = new HashSet<string>(StringComparer.Ordinal) { "module", "eventId", "exception" };
            provider.Scopes.ForEachScope((scope, w) => WriteProperties(w, scope, written, masker), json);
            WriteProperties(json, state, written, masker);
            if (exception is not null)
            {
                WriteException(json, exception, masker);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        provider.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void WriteProperties(Utf8JsonWriter json, object? state, HashSet<string> written, LogMasker masker)
    {
        if (state is not IEnumerable<KeyValuePair<string, object?>> properties)
        {
            return;
        }

        foreach (var (key, value) in properties)
        {
            var name = key.Length > 0 ? char.ToLowerInvariant(key[0]) + key[1..] : key;
            if (key == OriginalFormat || !written.Add(name))
            {
                continue;
            }

            json.WritePropertyName(name);
            JsonValueWriter.Write(json, value, masker);
        }
    }

    private static void WriteException(Utf8JsonWriter json, Exception exception, LogMasker masker)
    {
        json.WriteStartObject("exception");
        json.WriteString("type", exception.GetType().FullName);
        json.WriteString("message", masker.Apply(exception.Message));
        var inner = exception.InnerException;
        if (inner is not null)
        {
            json.WriteString("inner", masker.Apply($"{inner.GetType().Name}: {inner.Message}"));
        }

        json.WriteString("stackTrace", masker.Apply(exception.ToString()));
        json.WriteEndObject();
    }
}
