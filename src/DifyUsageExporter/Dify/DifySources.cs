using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify.Database;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Dify;

/// <summary>The usage source DIFY_SOURCE selects: the console API (default) or Dify's PostgreSQL.</summary>
public static class DifySources
{
    /// <summary>Creates the configured source; the caller disposes it.</summary>
    /// <param name="handler">Tests point the console client at a fake; unused by the database source.</param>
    public static IUsageSourceWithDispose Create(ExporterSettings settings, ILedgerWriter store, ILoggerFactory loggers, TimeProvider time, SecretRegistry secrets, HttpMessageHandler? handler = null) =>
        settings.DifySource == DifySource.Database
            ? new Adapter(new DatabaseUsageSource(settings, store, loggers, time))
            : new Adapter(DifyUsageSource.Create(settings, store, loggers, time, secrets, handler));

    /// <summary>True when the console can also be reached (reconcile and <c>check --dify</c> need it).</summary>
    public static bool ConsoleConfigured(ExporterSettings settings) =>
        settings.DifyBaseUrl is not null && (settings.DifyEmail is not null || settings.DifyApiToken is not null);

    private sealed class Adapter(IUsageSource inner) : IUsageSourceWithDispose
    {
        public IUsageSource Inner => inner;

        public Task<TimeZoneInfo> ResolveTimeZoneAsync(CancellationToken cancellationToken) => inner.ResolveTimeZoneAsync(cancellationToken);

        public Task<ExtractionReport> ExtractAsync(DateOnly from, DateOnly to, bool fullRead, CancellationToken cancellationToken) => inner.ExtractAsync(from, to, fullRead, cancellationToken);

        public void BeginCycle() => inner.BeginCycle();

        public void Dispose() => (inner as IDisposable)?.Dispose();
    }
}

/// <summary>A usage source that owns resources (a console session or a database connection pool).</summary>
public interface IUsageSourceWithDispose : IUsageSource, IDisposable
{
    /// <summary>The concrete source (console: its client is shared with reconcile).</summary>
    IUsageSource Inner { get; }
}
