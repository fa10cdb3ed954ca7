using System.Net;
using System.Text.RegularExpressions;

namespace DifyUsageExporter.Configuration;

/// <summary>Reads of formatted values: URLs, UUIDs, e-mail addresses, dates and time zones.</summary>
internal sealed partial class VariableReader
{
    public Uri? Url(string name, bool required)
    {
        var text = required ? Required(name, "an absolute http(s) URL, e.g. https://host.example.com/path.") : Text(name);
        if (text is null)
        {
            return null;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
        {
            Problem(name, $"{Show(name)} is not an absolute http(s) URL.", "an absolute http(s) URL, e.g. https://host.example.com/path.");
            return null;
        }

        return uri;
    }

    public Guid? Uuid(string name, bool required)
    {
        const string Accepted = "a UUID like 00000000-0000-0000-0000-000000000001.";
        var text = required ? Required(name, Accepted) : Text(name);
        if (text is null)
        {
            return null;
        }

        if (Guid.TryParseExact(text, "D", out var value))
        {
            return value;
        }

        Problem(name, $"{Show(name)} is not a UUID.", Accepted);
        return null;
    }

    public string? Email(string name)
    {
        var text = Text(name);
        if (text is not null && !EmailPattern().IsMatch(text))
        {
            Problem(name, $"{Show(name)} is not an e-mail address.", "an address like exporter@example.com.");
        }

        return text;
    }

    public DateOnly? Date(string name)
    {
        var text = Text(name);
        if (text is null)
        {
            return null;
        }

        if (Iso.TryParseDay(text) is { } date)
        {
            return date;
        }

        Problem(name, $"{Show(name)} is not a date.", "a date in the form YYYY-MM-DD.");
        return null;
    }

    public TimeZoneInfo? Zone(string name)
    {
        var text = Text(name);
        if (text is null)
        {
            return null;
        }

        if (text.Equals("UTC", StringComparison.OrdinalIgnoreCase) || text == "Etc/UTC")
        {
            return TimeZoneInfo.Utc;
        }

        if (TimeZoneInfo.TryFindSystemTimeZoneById(text, out var zone))
        {
            return zone;
        }

        Problem(name, $"{Show(name)} is not a known time zone.", "an IANA time zone name such as UTC, Asia/Tokyo or America/New_York.");
        return null;
    }

    /// <summary>True for localhost and loopback addresses (plain HTTP is fine there).</summary>
    public static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailPattern();
}
