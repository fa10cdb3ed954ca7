using System.Globalization;
using DifyUsageExporter.Hosting;

namespace DifyUsageExporter.Cli;

/// <summary>Argument parsing shared by the commands.</summary>
internal static class CliArguments
{
    /// <summary>A usage day given as YYYY-MM-DD; anything else is a usage error (exit 2) naming the option.</summary>
    public static DateOnly ParseDay(string? text, string option) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? day
            : throw new CliException($"{option} must be a date YYYY-MM-DD (got '{text}').", ExitCodes.Usage);
}
