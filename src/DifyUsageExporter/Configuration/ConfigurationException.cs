namespace DifyUsageExporter.Configuration;

/// <summary>The configuration is invalid; <see cref="Problems"/> lists every problem, each naming the variable, what is wrong and the accepted form.</summary>
public sealed class ConfigurationException : Exception
{
    public ConfigurationException(IReadOnlyList<string> problems)
        : base("Invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)))
        => Problems = problems;

    public IReadOnlyList<string> Problems { get; }
}
