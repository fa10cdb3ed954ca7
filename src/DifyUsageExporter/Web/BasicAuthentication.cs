using System.Security.Cryptography;
using System.Text;

namespace DifyUsageExporter.Web;

/// <summary>
/// HTTP Basic authentication of the dashboard and usage API against DASHBOARD_USER and
/// DASHBOARD_PASSWORD. Both parts are compared as SHA-256 digests with a fixed-time comparison,
/// so neither the content nor the length of the secrets leaks through response timing.
/// </summary>
internal sealed class BasicAuthentication(string user, string password)
{
    public const string Challenge = "Basic realm=\"dify-usage-exporter\", charset=\"UTF-8\"";

    private readonly byte[] userDigest = Digest(user);
    private readonly byte[] passwordDigest = Digest(password);

    public bool IsAuthorized(string? authorization)
    {
        const string Scheme = "Basic ";
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var encoded = authorization[Scheme.Length..].Trim();
        var buffer = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, buffer, out var length))
        {
            return false;
        }

        var text = Encoding.UTF8.GetString(buffer, 0, length);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }

        // Both comparisons always run: no early exit that tells a right user from a wrong one.
        var userOk = CryptographicOperations.FixedTimeEquals(Digest(text[..colon]), userDigest);
        var passwordOk = CryptographicOperations.FixedTimeEquals(Digest(text[(colon + 1)..]), passwordDigest);
        return userOk & passwordOk;
    }

    private static byte[] Digest(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
