namespace DifyUsageExporter.Configuration;

/// <summary>Where a configuration value came from, highest precedence first.</summary>
public enum ValueSource
{
    Environment,
    DotEnv,
    Default,
    Unset,

    /// <summary>The content of the file named by the variable's <c>_FILE</c> form (Docker/Kubernetes secrets).</summary>
    File,
}

/// <summary>The value of one catalog variable after applying the sources in order.</summary>
/// <param name="Spec">The catalog entry.</param>
/// <param name="Value">The raw text, or null when unset and without default.</param>
/// <param name="Source">env, .env, default or unset.</param>
/// <param name="FromName">The name the value was read under (an alias when not the canonical name).</param>
public sealed record ResolvedVariable(VariableSpec Spec, string? Value, ValueSource Source, string? FromName)
{
    public bool IsSet => Source is ValueSource.Environment or ValueSource.DotEnv or ValueSource.File;

    /// <summary>The value as it may be shown: secrets masked, URLs without user-info and query values.</summary>
    public string Display => Value is null ? "(not set)" : Spec.Secret && IsSet ? "***" : ConfigHygiene.MaskUrl(Value);

    public string SourceLabel => Source switch
    {
        ValueSource.Environment => "env",
        ValueSource.DotEnv => ".env",
        ValueSource.Default => "default",
        ValueSource.File => "file",
        _ => "unset",
    };
}
