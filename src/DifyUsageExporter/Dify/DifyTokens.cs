using System.Text;
using System.Text.Json;

namespace DifyUsageExporter.Dify;

/// <summary>One cookie from a Set-Cookie header: exact name as received, value, and whether it deletes the cookie.</summary>
internal readonly record struct ReceivedCookie(string Name, string Value, bool Deletes);

/// <summary>Parsing helpers for the session material Dify hands out (docs/dify.md, "Auth eras"; Dify's api/libs/token.py).</summary>
internal static class DifyTokens
{
    /// <summary>
    /// Parses one Set-Cookie header by hand (a cookie jar would drop Secure cookies over plain
    /// HTTP): split at the first ';', then at the first '='. The name is kept exactly as received
    /// (<c>__Host-</c> prefix or not). <c>Max-Age=0</c> or an empty value mean "delete".
    /// </summary>
    public static ReceivedCookie? ParseSetCookie(string header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }

        var parts = header.Split(';');
        var pair = parts[0];
        var eq = pair.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            return null;
        }

        var name = pair[..eq].Trim();
        var value = pair[(eq + 1)..].Trim();
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            value = value[1..^1];
        }

        var deletes = value.Length == 0;
        foreach (var attribute in parts.Skip(1))
        {
            var a = attribute.Trim();
            if (a.StartsWith("Max-Age=", StringComparison.OrdinalIgnoreCase)
                && long.TryParse(a["Max-Age=".Length..], out var maxAge) && maxAge <= 0)
            {
                deletes = true;
            }
        }

        return new ReceivedCookie(name, value, deletes);
    }

    /// <summary>The cookie's base name without a <c>__Host-</c>/<c>__Secure-</c> prefix (used only to recognise its role).</summary>
    public static string BaseName(string name)
    {
        if (name.StartsWith("__Host-", StringComparison.Ordinal))
        {
            return name["__Host-".Length..];
        }

        return name.StartsWith("__Secure-", StringComparison.Ordinal) ? name["__Secure-".Length..] : name;
    }

    /// <summary>The <c>exp</c> claim of a JWT (payload decoded, signature not checked); null when absent or not a JWT.</summary>
    public static DateTimeOffset? JwtExpiry(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        var parts = token.Split('.');
        if (parts.Length < 2)
        {
            return null;
        }

        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
            using var document = JsonDocument.Parse(Convert.FromBase64String(payload));
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("exp", out var exp)
                && exp.ValueKind == JsonValueKind.Number)
            {
                return DateTimeOffset.FromUnixTimeSeconds((long)exp.GetDouble());
            }
        }
        catch (FormatException)
        {
            // Not base64: not a JWT we can read; refresh then happens on 401 only.
        }
        catch (JsonException)
        {
            // Not JSON: same.
        }

        return null;
    }

    /// <summary>Base64(UTF-8(password)), as the 1.11 line expects.</summary>
    public static string EncodePassword(string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes(password));

    /// <summary>Parses "1.11.1", "v1.9.2", "1.10.0-fix1" into a <see cref="Version"/>; null when absent or unparsable.</summary>
    public static Version? ParseVersion(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var t = text.Trim().TrimStart('v', 'V');
        var end = 0;
        while (end < t.Length && (char.IsDigit(t[end]) || t[end] == '.'))
        {
            end++;
        }

        var core = t[..end].Trim('.');
        if (!core.Contains('.', StringComparison.Ordinal))
        {
            core += ".0";
        }

        return Version.TryParse(core, out var version) ? version : null;
    }
}
