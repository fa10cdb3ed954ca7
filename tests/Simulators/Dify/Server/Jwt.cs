using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Simulators.Dify;

/// <summary>Minimal HS256 JWT, as Dify's PassportService writes and checks it.</summary>
internal static class Jwt
{
    public static string Sign(JsonObject payload, string secret)
    {
        var header = B64(Encoding.UTF8.GetBytes("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"));
        var body = B64(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var sig = B64(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(header + "." + body)));
        return header + "." + body + "." + sig;
    }

    /// <summary>Verifies signature and expiry; returns the payload or the Dify error message.</summary>
    public static (JsonObject? Payload, string? Error) Verify(string token, string secret, DateTimeOffset now)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return (null, "Invalid token.");
        }

        JsonObject? payload;
        try
        {
            payload = JsonNode.Parse(FromB64(parts[1])) as JsonObject;
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            return (null, "Invalid token.");
        }

        if (payload is null)
        {
            return (null, "Invalid token.");
        }

        var expected = B64(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(parts[0] + "." + parts[1])));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(parts[2])))
        {
            return (null, "Invalid token signature.");
        }

        var exp = payload["exp"]?.GetValue<long>() ?? 0;
        return exp <= now.ToUnixTimeSeconds() ? (null, "Token has expired.") : (payload, null);
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromB64(string s)
    {
        var t = s.Replace('-', '+').Replace('_', '/');
        t += (t.Length % 4) switch { 2 => "==", 3 => "=", _ => string.Empty };
        return Convert.FromBase64String(t);
    }
}
