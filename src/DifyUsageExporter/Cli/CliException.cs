using DifyUsageExporter.Hosting;

namespace DifyUsageExporter.Cli;

/// <summary>A user-facing error of a command: the message is printed to stderr as is, then the process exits with <see cref="ExitCode"/>.</summary>
public sealed class CliException : Exception
{
    public CliException(string message, int exitCode = ExitCodes.Failure) : base(message) => ExitCode = exitCode;

    public int ExitCode { get; }
}
