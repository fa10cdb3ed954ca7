using System.Globalization;
using System.Text;

namespace DifyUsageExporter.Configuration;

/// <summary>
/// Warnings about configuration that would otherwise be silently ignored (a misspelt variable, a
/// key set twice in .env) and the display rules for values: URLs without their user-info and
/// query values, and echoed values cut to <see cref="MaxEcho"/> characters.
/// </summary>
public static class ConfigHygiene
{
    /// <summary>The longest value echoed in a problem message.</summary>
    public const int MaxEcho = 80;

    /// <summary>Prefixes that mark a variable as meant for this exporter.</summary>
    private static readonly string[] OurPrefixes = ["DIFY_", "EXTERNAL_API_", "API_METER_", "CRON_", "HEALTHCHECK_", "NOTIFY_", "WATERMARK_", "USAGE_REPORT", "MAX_SPOOL", "MAX_RETR", "GRACEFUL_"];

    /// <summary>
    /// One warning per variable of the environment or .env that looks like one of ours (our prefix,
    /// or at most two edits from a known name) but is not, naming the nearest known variable.
    /// </summary>
    public static IEnumerable<string> UnknownVariables(IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string> dotEnv)
    {
        var known = VariableCatalog.All.SelectMany(v => v.Aliases.Prepend(v.Name).Concat(v.Secret ? SecretFiles.FileNames(v) : [])).ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, source) in dotEnv.Keys.Select(k => (k, ".env")).Concat(environment.Keys.Select(k => (k, "the environment"))))
        {
            if (known.Contains(name) || !seen.Add(name))
            {
                continue;
            }

            var (nearest, distance) = known.Select(k => (k, Distance(name.ToUpperInvariant(), k))).MinBy(x => x.Item2);
            var ours = OurPrefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase));
            if (ours || (name.Length >= 6 && distance <= 2))
            {
                yield return $"{name} (in {source}) is not a variable of dify-usage-exporter and is ignored; the nearest known one is {nearest}. Rename it if that is what you meant.";
            }
        }
    }

    /// <summary>A warning per key set more than once in a .env file (the last one wins, as with docker compose).</summary>
    public static IEnumerable<string> DuplicateKeys(IReadOnlyList<DotEnvEntry> entries, string fileName) =>
        entries.GroupBy(e => e.Key, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g =>
            string.Create(CultureInfo.InvariantCulture, $"{fileName}: {g.Key} is set {g.Count()} times (lines {string.Join(", ", g.Select(e => e.Line))}); the last one (line {g.Last().Line}) is used. Remove the others."));

    /// <summary>An absolute URL with its user-info and query values replaced by ***; other text unchanged.</summary>
    public static string MaskUrl(string value)
    {
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || (uri.UserInfo.Length == 0 && uri.Query.Length <= 1))
        {
            return value;
        }

        var text = new StringBuilder().Append(uri.Scheme).Append("://");
        if (uri.UserInfo.Length > 0)
        {
            text.Append("***@");
        }

        text.Append(uri.Authority).Append(uri.AbsolutePath);
        if (uri.Query.Length > 1)
        {
            var pairs = uri.Query[1..].Split('&').Select(p => p.Split('=', 2) is [var k, _] ? k + "=***" : p);
            text.Append('?').Append(string.Join('&', pairs));
        }

        return text.Append(uri.Fragment).ToString();
    }

    /// <summary>The parts of a URL that may carry credentials (user-info password, query values), to register as secrets.</summary>
    public static IEnumerable<string> UrlSecrets(string? value)
    {
        if (value is null || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri))
        {
            yield break;
        }

        if (uri.UserInfo.Split(':', 2) is [_, var password])
        {
            yield return Uri.UnescapeDataString(password);
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (pair.Split('=', 2) is [_, var v] && v.Length > 0)
            {
                yield return Uri.UnescapeDataString(v);
            }
        }
    }

    /// <summary>A value as echoed in a problem message: URL credentials masked, cut to <see cref="MaxEcho"/> characters.</summary>
    public static string Echo(string value)
    {
        var masked = MaskUrl(value);
        return masked.Length <= MaxEcho
            ? masked
            : string.Create(CultureInfo.InvariantCulture, $"{masked[..MaxEcho]}… ({masked.Length} characters)");
    }

    /// <summary>Optimal string alignment distance (Levenshtein with adjacent transpositions: SCHEDUEL → SCHEDULE is 1).</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
