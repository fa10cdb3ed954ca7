using DifyUsageExporter.Hosting;

namespace DifyUsageExporter.Cli;

/// <summary>Argument parsing shared by the commands.</summary>
internal static class CliArguments
{
    /// <summary>A usage day given as YYYY-MM-DD; anything else is a usage error (exit 2) naming the option.</summary>
    public static DateOnly ParseDay(string? text, string option) =>
        Iso.TryParseDay(text) is { } day
            ? day
            : throw new CliException($"{option} must be a date YYYY-MM-DD (got '{text}').", ExitCodes.Usage);
}
