using System.Text;
using System.Text.RegularExpressions;

namespace DifyUsageExporter.Configuration;

/// <summary>One <c>KEY=VALUE</c> line of a .env file.</summary>
public sealed record DotEnvEntry(string Key, string Value, int Line);

/// <summary>The entries of a .env file and the lines that could not be read (never echoing a value).</summary>
public sealed record DotEnvResult(IReadOnlyList<DotEnvEntry> Entries, IReadOnlyList<string> Problems);

/// <summary>
/// Reads .env files the way docker compose and dotenv do: blank lines, <c>#</c> comment lines,
/// optional <c>export</c>, single or double quotes. An unquoted value ends at <c> #</c>, so
/// <c>MAX_RETRY=3 # retries</c> is 3 and not "3 # retries" (a pitfall of hand-edited .env files; docs/configuration.md).
/// </summary>
public static partial class DotEnvParser
{
    public static DotEnvResult Parse(string text, string fileName)
    {
        var entries = new List<DotEnvEntry>();
        var problems = new List<string>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var lineNumber = i + 1;
            var line = lines[i].TrimEnd('\r').Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            var key = equals > 0 ? line[..equals].Trim() : string.Empty;
            if (!KeyPattern().IsMatch(key))
            {
                problems.Add($"{fileName} line {lineNumber}: expected KEY=VALUE with KEY made of letters, digits and underscores.");
                continue;
            }

            var (value, problem) = ReadValue(line[(equals + 1)..].TrimStart());
            if (problem is not null)
            {
                problems.Add($"{fileName} line {lineNumber} ({key}): {problem}");
                continue;
            }

            entries.Add(new DotEnvEntry(key, value, lineNumber));
        }

        return new DotEnvResult(entries, problems);
    }

    private static (string Value, string? Problem) ReadValue(string raw)
    {
        if (raw.Length > 0 && (raw[0] == '"' || raw[0] == '\''))
        {
            return ReadQuoted(raw);
        }

        // An inline comment needs whitespace before '#', so URL fragments and passwords like a#b stay intact.
        var comment = InlineComment().Match(raw);
        return (comment.Success ? raw[..comment.Index].TrimEnd() : raw.TrimEnd(), null);
    }

    private static (string Value, string? Problem) ReadQuoted(string raw)
    {
        var quote = raw[0];
        var value = new StringBuilder();
        for (var i = 1; i < raw.Length; i++)
        {
            var c = raw[i];
            if (quote == '"' && c == '\\' && i + 1 < raw.Length)
            {
                var next = raw[++i];
                value.Append(next switch { 'n' => '\n', 't' => '\t', _ => next });
                continue;
            }

            if (c == quote)
            {
                var rest = raw[(i + 1)..].Trim();
                return rest.Length == 0 || rest.StartsWith('#')
                    ? (value.ToString(), null)
                    : (string.Empty, "unexpected text after the closing quote; put a comment after whitespace and '#', or quote the whole value.");
            }

            value.Append(c);
        }

        return (string.Empty, $"the value opens a {quote} quote that is never closed on the same line.");
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex KeyPattern();

    [GeneratedRegex(@"\s#")]
    private static partial Regex InlineComment();
}
