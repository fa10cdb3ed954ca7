namespace DifyUsageExporter.Usage;

/// <summary>usage-semantics.md §3: the names API_Meter keys on.</summary>
public static class ProviderModelNormalizer
{
    public const string Unknown = "unknown";

    /// <summary>Lower-case, trim; a plugin id <c>org/plugin/provider</c> becomes its last segment; empty → unknown.</summary>
    public static string NormalizeProvider(string? raw)
    {
        var value = (raw ?? string.Empty).Trim().ToLowerInvariant();
        var slash = value.LastIndexOf('/');
        if (slash >= 0)
        {
            value = value[(slash + 1)..].Trim();
        }

        return value.Length == 0 ? Unknown : value;
    }

    /// <summary>Lower-case, trim; empty → unknown.</summary>
    public static string NormalizeModel(string? raw)
    {
        var value = (raw ?? string.Empty).Trim().ToLowerInvariant();
        return value.Length == 0 ? Unknown : value;
    }
}
