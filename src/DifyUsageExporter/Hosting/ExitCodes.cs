namespace DifyUsageExporter.Hosting;

/// <summary>Process exit codes (documented in the README).</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Success = 0;

    /// <summary>Failure: configuration, lock, store, fatal error, failed check.</summary>
    public const int Failure = 1;

    /// <summary>Command-line usage error (unknown command or option, bad argument).</summary>
    public const int Usage = 2;

    /// <summary>Finished, but some data waits in the spool for a later delivery.</summary>
    public const int Spooled = 3;

    /// <summary>A one-shot command stopped by SIGINT or SIGTERM (128 + SIGINT, the shell's Ctrl-C code).</summary>
    public const int Cancelled = 130;
}
