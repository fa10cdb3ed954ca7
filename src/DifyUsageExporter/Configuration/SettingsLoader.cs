namespace DifyUsageExporter.Configuration;

/// <summary>
/// Builds <see cref="ExporterSettings"/> from the process environment (highest precedence), the
/// .env file of the working directory (or <c>ENV_FILE</c>) and the catalog defaults, tracking
/// where each value came from and validating every variable at once.
/// </summary>
public static class SettingsLoader
{
    /// <summary>Loads and validates; throws <see cref="ConfigurationException"/> listing every problem.</summary>
    public static ExporterSettings Load(IReadOnlyDictionary<string, string> environment, string workingDirectory, SecretRegistry? secrets = null) =>
        Inspect(environment, workingDirectory, secrets).GetSettingsOrThrow();

    /// <summary>
    /// Resolves and validates every variable without throwing. Secret values found anywhere
    /// (even in an invalid configuration) are registered in <paramref name="secrets"/>.
    /// </summary>
    public static ConfigurationSnapshot Inspect(IReadOnlyDictionary<string, string> environment, string workingDirectory, SecretRegistry? secrets = null)
    {
        var problems = new List<string>();
        var warnings = new List<string>();
        var (dotEnv, dotEnvPath) = ReadDotEnv(environment, workingDirectory, problems, warnings);
        warnings.AddRange(ConfigHygiene.UnknownVariables(environment, dotEnv));
        var variables = VariableCatalog.All.Select(spec => SecretFiles.Resolve(Resolve(spec, environment, dotEnv, warnings), environment, dotEnv, workingDirectory, problems)).ToList();
        foreach (var variable in variables.Where(v => v.Spec.Secret))
        {
            secrets?.Add(variable.Value);
        }

        // A password in a URL's user-info or a token in its query is a secret wherever it appears.
        foreach (var part in variables.SelectMany(v => ConfigHygiene.UrlSecrets(v.Value)))
        {
            secrets?.Add(part);
        }

        // An Npgsql connection string's Password=... is not URL user-info.
        secrets?.Add(DatabaseUrl.Password(variables.First(v => v.Spec.Name == "DIFY_DATABASE_URL").Value));
        secrets?.Add(DatabaseUrl.Password(variables.First(v => v.Spec.Name == "STATE_DATABASE_URL").Value));

        var reader = new VariableReader(variables.ToDictionary(v => v.Spec.Name, StringComparer.Ordinal));
        var settings = SettingsBinder.Bind(reader, workingDirectory, warnings);
        // Each OTLP header value on its own, and its credential without the scheme ("Bearer abc" -> "abc").
        foreach (var header in settings.Otlp.Headers)
        {
            secrets?.Add(header.Value);
            secrets?.Add(header.Value.Split(' ', 2, StringSplitOptions.TrimEntries).ElementAtOrDefault(1));
        }
        problems.AddRange(reader.Problems);
        warnings.AddRange(EnvExampleCheck.MissingVariables(workingDirectory, environment, dotEnv));
        var notes = variables
            .Where(v => v.IsSet && v.Spec.Group == VariableCatalog.GroupLegacy)
            .Select(v => $"{v.Spec.Name} is set but ignored: {v.Spec.Description}")
            .ToList();

        return new ConfigurationSnapshot
        {
            Variables = variables,
            Settings = problems.Count == 0 ? settings : null,
            Problems = problems,
            Warnings = warnings,
            Notes = notes,
            DotEnvPath = dotEnvPath,
        };
    }

    /// <summary>The current process environment as a dictionary.</summary>
    public static IReadOnlyDictionary<string, string> ProcessEnvironment() =>
        Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? string.Empty, StringComparer.Ordinal);

    private static ResolvedVariable Resolve(VariableSpec spec, IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string> dotEnv, List<string> warnings)
    {
        string[] names = [spec.Name, .. spec.Aliases];
        foreach (var (source, values) in new[] { (ValueSource.Environment, environment), (ValueSource.DotEnv, dotEnv) })
        {
            foreach (var name in names)
            {
                if (values.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value))
                {
                    if (name != spec.Name)
                    {
                        warnings.Add($"{name} is an old name of {spec.Name}; it still works, but prefer {spec.Name}.");
                    }

                    return new ResolvedVariable(spec, value, source, name);
                }
            }
        }

        return spec.Default is null
            ? new ResolvedVariable(spec, null, ValueSource.Unset, null)
            : new ResolvedVariable(spec, spec.Default, ValueSource.Default, spec.Name);
    }

    private static (IReadOnlyDictionary<string, string> Values, string? Path) ReadDotEnv(IReadOnlyDictionary<string, string> environment, string workingDirectory, List<string> problems, List<string> warnings)
    {
        var explicitFile = environment.TryGetValue("ENV_FILE", out var named) && !string.IsNullOrWhiteSpace(named);
        var path = Path.GetFullPath(explicitFile ? named!.Trim() : ".env", workingDirectory);
        if (!File.Exists(path))
        {
            if (explicitFile)
            {
                problems.Add($"ENV_FILE: the file {path} does not exist. Accepted: the path of a readable .env file, or unset to read ./.env.");
            }

            return (new Dictionary<string, string>(), null);
        }

        var result = DotEnvParser.Parse(File.ReadAllText(path), Path.GetFileName(path));
        problems.AddRange(result.Problems);
        warnings.AddRange(ConfigHygiene.DuplicateKeys(result.Entries, Path.GetFileName(path)));
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in result.Entries)
        {
            values[entry.Key] = entry.Value;
        }

        return (values, path);
    }
}
