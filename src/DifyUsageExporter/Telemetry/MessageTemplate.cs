using System.Globalization;
using System.Text;

namespace DifyUsageExporter.Telemetry;

/// <summary>
/// Renders a structured log message from its template and values with invariant, ISO-style
/// formatting: dates as yyyy-MM-dd, instants as UTC ISO-8601. The default formatter of
/// [LoggerMessage] writes dates in the invariant culture's US style (03/01/2026), which operators
/// misread and grep badly.
/// </summary>
internal static class MessageTemplate
{
    private const string OriginalFormat = "{OriginalFormat}";

    /// <summary>The rendered message, or null when <paramref name="state"/> carries no template.</summary>
    public static string? TryRender(object? state)
    {
        if (state is not IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            return null;
        }

        string? template = null;
        var byName = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in values)
        {
            if (key == OriginalFormat)
            {
                template = value as string;
            }
            else
            {
                byName[key] = value;
            }
        }

        return template is null ? null : Render(template, byName);
    }

    private static string Render(string template, Dictionary<string, object?> values)
    {
        var output = new StringBuilder(template.Length + 32);
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if ((c == '{' || c == '}') && i + 1 < template.Length && template[i + 1] == c)
            {
                output.Append(c);
                i++;
                continue;
            }

            var close = c == '{' ? template.IndexOf('}', i + 1) : -1;
            if (close < 0)
            {
                output.Append(c);
                continue;
            }

            var hole = template[(i + 1)..close];
            var colon = hole.IndexOf(':', StringComparison.Ordinal);
            var name = colon < 0 ? hole : hole[..colon];
            var format = colon < 0 ? null : hole[(colon + 1)..];
            output.Append(values.TryGetValue(name, out var value) ? Format(value, format) : "{" + hole + "}");
            i = close;
        }

        return output.ToString();
    }

    internal static string Format(object? value, string? format = null) => value switch
    {
        null => "(null)",
        DateOnly date => date.ToString(format ?? Iso.DayFormat, CultureInfo.InvariantCulture),
        DateTimeOffset instant => format is null ? Iso.Instant(instant) : instant.ToUniversalTime().ToString(format, CultureInfo.InvariantCulture),
        DateTime time => time.ToString(format ?? Iso.DayFormat + "'T'HH:mm:ss.fff", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(format, CultureInfo.InvariantCulture),
        IEnumerable<string> strings => string.Join(", ", strings),
        _ => value.ToString() ?? string.Empty,
    };
}
