using System.Globalization;
using System.Text.RegularExpressions;

namespace DifyUsageExporter.Configuration;

/// <summary>
/// Typed reads of resolved variables. Each read that fails records one problem naming the
/// variable, what is wrong and the accepted form, and returns the default, so validation goes on
/// and every problem is reported at once. Secret values are never echoed.
/// </summary>
internal sealed partial class VariableReader(IReadOnlyDictionary<string, ResolvedVariable> variables)
{
    public List<string> Problems { get; } = [];

    public ResolvedVariable Get(string name) => variables[name];

    public void Problem(string name, string problem, string accepted) =>
        Problems.Add($"{name}: {problem} Accepted: {accepted}");

    private readonly HashSet<string> inlineComments = new(StringComparer.Ordinal);

    public string? Text(string name)
    {
        var variable = variables[name];
        var value = variable.Value?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        // The .env parser strips " # comment"; a value from the environment (systemd EnvironmentFile,
        // docker run -e) keeps it, and it must not silently become part of a number or URL.
        var comment = InlineComment().Match(value);
        if (comment.Success && !variable.Spec.Secret && variable.Spec.Group != VariableCatalog.GroupLegacy)
        {
            if (inlineComments.Add(name))
            {
                Problem(name, $"'{ConfigHygiene.Echo(value)}' contains what looks like an inline comment (' #...'), which is not stripped from environment variables.", "the value alone; put the comment on its own line.");
            }

            return value[..comment.Index].TrimEnd();
        }

        return value;
    }

    public string? Required(string name, string accepted, string why = "is required but not set.")
    {
        var value = Text(name);
        if (value is null)
        {
            Problem(name, why, accepted);
        }

        return value;
    }

    public int Int(string name, int min, int max, int fallback)
    {
        var text = Text(name);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Problem(name, $"{Show(name)} is not a whole number.", $"an integer from {min} to {max}.");
            return fallback;
        }

        if (value < min || value > max)
        {
            Problem(name, $"{value} is out of range.", $"an integer from {min} to {max}.");
            return fallback;
        }

        return value;
    }

    public bool Bool(string name, bool fallback)
    {
        var text = Text(name)?.ToLowerInvariant();
        switch (text)
        {
            case null:
                return fallback;
            case "true" or "1" or "yes" or "on":
                return true;
            case "false" or "0" or "no" or "off":
                return false;
            default:
                Problem(name, $"{Show(name)} is not a boolean.", "true or false.");
                return fallback;
        }
    }

    /// <summary>Reads a snake_case value (current_month) into an enum member (CurrentMonth).</summary>
    public T Enum<T>(string name, T fallback)
        where T : struct, System.Enum
    {
        var text = Text(name);
        if (text is null)
        {
            return fallback;
        }

        var forms = System.Enum.GetValues<T>().ToDictionary(SnakeCase, v => v, StringComparer.OrdinalIgnoreCase);
        if (forms.TryGetValue(text, out var value))
        {
            return value;
        }

        Problem(name, $"{Show(name)} is not one of the accepted values.", string.Join("|", forms.Keys) + ".");
        return fallback;
    }

    /// <summary>The value quoted for a problem message, or a neutral phrase for secrets.</summary>
    public string Show(string name)
    {
        var variable = variables[name];
        return variable.Spec.Secret ? "the value" : $"'{ConfigHygiene.Echo(variable.Value?.Trim() ?? string.Empty)}'";
    }

    internal static string SnakeCase<T>(T value)
        where T : struct, System.Enum =>
        SnakeBoundary().Replace(value.ToString(), "$1_$2").ToLowerInvariant();

    [GeneratedRegex(@"\s#")]
    private static partial Regex InlineComment();

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex SnakeBoundary();
}
