using System.Text.RegularExpressions;
using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Telemetry;

/// <summary>
/// Masks secrets in text that is about to be written: every value known to the
/// <see cref="SecretRegistry"/>, and by pattern the credentials that may arrive unannounced
/// (Bearer tokens, Authorization and Cookie headers, access/refresh/csrf tokens, password fields).
/// </summary>
public sealed partial class LogMasker(SecretRegistry secrets)
{
    public const string Mask = "***";

    public string Apply(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        text = secrets.Mask(text);
        text = QuotedField().Replace(text, "$1" + Mask);
        text = PlainField().Replace(text, "$1" + Mask);
        text = Header().Replace(text, "$1" + Mask);
        return Bearer().Replace(text, "$1" + Mask);
    }

    // "password": "x y", 'access_token': '...'
    [GeneratedRegex("""(?i)((?:password|passwd|access_token|refresh_token|csrf_token|api_key|secret)["']?\s*[:=]\s*["'])[^"']*""")]
    private static partial Regex QuotedField();

    // password=x&access_token=y (only '=': "DIFY_PASSWORD: is required" is a message, not a value)
    [GeneratedRegex("""(?i)((?:password|passwd|access_token|refresh_token|csrf_token|api_key)\s*=\s*)(?!\*\*\*)[^\s"'&,;}]+""")]
    private static partial Regex PlainField();

    // Authorization: Basic abc / Cookie: a=b; c=d / Set-Cookie: ...
    [GeneratedRegex("""(?i)((?:authorization|proxy-authorization|set-cookie|cookie)\s*:\s*)(?!\*\*\*)[^\r\n"]+""")]
    private static partial Regex Header();

    [GeneratedRegex("""(?i)(bearer\s+)(?!\*\*\*)[^\s"',;]+""")]
    private static partial Regex Bearer();
}
