using System.Collections.Concurrent;

namespace DifyUsageExporter.Configuration;

/// <summary>
/// The secret values known to the process: configured passwords and tokens, and session tokens
/// and cookies received at run time. Loggers and error printers call <see cref="Mask"/> on
/// every string they write, so a secret that slips into a message or exception never leaves
/// the process.
/// </summary>
public sealed class SecretRegistry
{
    private const string Mask_ = "***";
    private readonly ConcurrentDictionary<string, byte> secrets = new(StringComparer.Ordinal);

    /// <summary>Registers a secret value (ignored when null or shorter than 4 characters, to avoid masking common words).</summary>
    public void Add(string? secret)
    {
        if (!string.IsNullOrEmpty(secret) && secret.Length >= 4)
        {
            secrets.TryAdd(secret, 0);
        }
    }

    /// <summary>Replaces every registered secret in <paramref name="text"/> by ***.</summary>
    public string Mask(string text)
    {
        if (string.IsNullOrEmpty(text) || secrets.IsEmpty)
        {
            return text;
        }

        // Longest first, so a secret containing another is masked whole.
        foreach (var secret in secrets.Keys.OrderByDescending(s => s.Length))
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, Mask_, StringComparison.Ordinal);
            }
        }

        return text;
    }
}
