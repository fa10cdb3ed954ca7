namespace DifyUsageExporter.Configuration;

/// <summary>Warns about variables that .env.example sets (uncommented) but the configuration lacks.</summary>
internal static class EnvExampleCheck
{
    public static IEnumerable<string> MissingVariables(string workingDirectory, IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string> dotEnv)
    {
        var example = Path.Combine(workingDirectory, ".env.example");
        if (!File.Exists(example))
        {
            yield break;
        }

        foreach (var entry in DotEnvParser.Parse(File.ReadAllText(example), ".env.example").Entries)
        {
            var spec = VariableCatalog.Find(entry.Key);
            string[] names = spec is null ? [entry.Key] : [spec.Name, .. spec.Aliases, .. spec.Secret ? SecretFiles.FileNames(spec) : []];
            if (!names.Any(n => IsSet(environment, n) || IsSet(dotEnv, n)))
            {
                yield return $"{entry.Key} is listed in .env.example but not set in the environment or .env.";
            }
        }
    }

    private static bool IsSet(IReadOnlyDictionary<string, string> values, string name) =>
        values.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value);
}
