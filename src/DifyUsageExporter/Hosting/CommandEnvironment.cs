using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Hosting;

/// <summary>
/// What every command gets from the process: output streams (results to <see cref="Out"/>,
/// diagnostics and logs to <see cref="Error"/> for one-shot commands; the daemon logs to stdout),
/// the clock, the configuration and logging. Tests build one with in-memory writers and settings.
/// </summary>
public sealed class CommandEnvironment
{
    /// <summary>Command results (tables, JSON).</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Diagnostics and error messages.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Confirmation answers (spool discard, watermark reset).</summary>
    public TextReader In { get; init; } = TextReader.Null;

    /// <summary>False when stdin is not a terminal/pipe that can answer a confirmation prompt.</summary>
    public bool CanPrompt { get; init; }

    public required TimeProvider Time { get; init; }

    /// <summary>Loads and validates the configuration; throws <see cref="ConfigurationException"/> listing every problem.</summary>
    public required Func<ExporterSettings> LoadSettings { get; init; }

    /// <summary>
    /// Resolves the configuration without throwing: every variable with its source, the problems,
    /// warnings and notes (for <c>config</c>, <c>health</c> and the daemon's start-up dump).
    /// </summary>
    public Func<ConfigurationSnapshot> InspectConfiguration { get; init; } =
        () => throw new InvalidOperationException("This CommandEnvironment was built without InspectConfiguration.");

    /// <summary>Creates the JSON Lines logger factory for the given settings, writing to the given writer.</summary>
    public required Func<ExporterSettings, TextWriter, ILoggerFactory> CreateLoggerFactory { get; init; }

    /// <summary>
    /// Secrets known to this process (password, tokens, cookies seen at run time). Every output
    /// path masks them; HTTP clients add session cookies and tokens here as they receive them.
    /// </summary>
    public SecretRegistry Secrets { get; init; } = new();
}
