namespace DifyUsageExporter.Configuration;

/// <summary>
/// The <c>_FILE</c> form of every secret variable (<c>DIFY_PASSWORD_FILE</c>, <c>EXTERNAL_API_TOKEN_FILE</c>,
/// ...), the Docker and Kubernetes secrets convention: the variable names a file whose content,
/// without its trailing newline, is the value. Setting both forms is an error naming both; a file
/// that is missing, unreadable or empty is an error naming the variable and the path, never the content.
/// </summary>
internal static class SecretFiles
{
    public const string Suffix = "_FILE";

    /// <summary>The _FILE names of a secret variable: of its canonical name and of each alias.</summary>
    public static IEnumerable<string> FileNames(VariableSpec spec) =>
        new[] { spec.Name }.Concat(spec.Aliases).Select(n => n + Suffix);

    /// <summary>
    /// Returns <paramref name="resolved"/> unchanged unless its variable is a secret with a _FILE
    /// form set (environment first, then .env); then the file's content, with problems recorded.
    /// </summary>
    public static ResolvedVariable Resolve(ResolvedVariable resolved, IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string> dotEnv, string workingDirectory, List<string> problems)
    {
        if (!resolved.Spec.Secret)
        {
            return resolved;
        }

        var form = FileNames(resolved.Spec)
            .SelectMany(name => new[] { (Name: name, Values: environment), (Name: name, Values: dotEnv) })
            .Select(x => (x.Name, Path: x.Values.TryGetValue(x.Name, out var v) ? v?.Trim() : null))
            .FirstOrDefault(x => !string.IsNullOrEmpty(x.Path));
        if (form.Path is null)
        {
            return resolved;
        }

        var accepted = $"either {resolved.Spec.Name} or {form.Name} (the path of a file holding the value, e.g. a Docker secret /run/secrets/...), not both.";
        if (resolved.IsSet)
        {
            problems.Add($"{form.Name}: both {resolved.FromName} and {form.Name} are set. Accepted: {accepted}");
            return resolved;
        }

        var path = System.IO.Path.GetFullPath(form.Path, workingDirectory);
        string content;
        try
        {
            content = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            problems.Add($"{form.Name}: the file {path} does not exist. Accepted: the path of a readable file holding {resolved.Spec.Name}; with Docker Compose secrets it is /run/secrets/<name>.");
            return resolved with { Source = ValueSource.Unset, Value = null, FromName = form.Name };
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            // The message of these exceptions names the path and the reason, never the file's content.
            problems.Add($"{form.Name}: the file {path} cannot be read ({ex.GetType().Name}: {ex.Message}). Accepted: a regular file readable by the user the exporter runs as (uid 10001 in the container).");
            return resolved with { Source = ValueSource.Unset, Value = null, FromName = form.Name };
        }

        // Editors and `echo` end files with a newline; the secret itself never ends with one.
        var value = content.TrimEnd('\r', '\n');
        if (value.Length == 0)
        {
            problems.Add($"{form.Name}: the file {path} is empty. Accepted: a file holding {resolved.Spec.Name}.");
            return resolved with { Source = ValueSource.Unset, Value = null, FromName = form.Name };
        }

        return new ResolvedVariable(resolved.Spec, value, ValueSource.File, form.Name);
    }
}
