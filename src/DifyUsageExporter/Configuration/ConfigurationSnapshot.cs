namespace DifyUsageExporter.Configuration;

/// <summary>
/// Everything known about the configuration: each variable's value and source, the typed
/// settings when valid, every problem, warnings for the operator and debug notes. <c>config</c>
/// prints it; the daemon logs it once at start.
/// </summary>
public sealed class ConfigurationSnapshot
{
    public required IReadOnlyList<ResolvedVariable> Variables { get; init; }

    /// <summary>The typed settings, or null when <see cref="Problems"/> is not empty.</summary>
    public ExporterSettings? Settings { get; init; }

    public required IReadOnlyList<string> Problems { get; init; }

    public required IReadOnlyList<string> Warnings { get; init; }

    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>The .env file that was read, or null when there was none.</summary>
    public string? DotEnvPath { get; init; }

    public ResolvedVariable this[string name] =>
        Variables.First(v => v.Spec.Name == (VariableCatalog.Find(name)?.Name ?? name));

    /// <summary>Returns the settings or throws <see cref="ConfigurationException"/> with every problem.</summary>
    public ExporterSettings GetSettingsOrThrow() =>
        Problems.Count == 0 && Settings is not null ? Settings : throw new ConfigurationException(Problems);

    /// <summary>Variable → masked value, for the start-up log line.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> MaskedDump() =>
        Variables.Select(v => new KeyValuePair<string, string>(v.Spec.Name, $"{v.Display} ({v.SourceLabel})")).ToList();
}
