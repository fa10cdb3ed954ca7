using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Hosting;

/// <summary>
/// The production cycle: <see cref="ExportCycle"/> over the Dify extractor and the delivery
/// service. Owns both, so the Dify session (and its refresh schedule) lives as long as the daemon
/// and is released with it.
/// </summary>
internal sealed class DifyExportCycle : ICycleRunner, IDisposable
{
    private readonly DifyUsageSource source;
    private readonly DeliveryService delivery;
    private readonly ExportCycle cycle;

    public DifyExportCycle(ExporterSettings settings, SqliteStore store, ILoggerFactory loggers, TimeProvider time, SecretRegistry secrets)
    {
        delivery = new DeliveryService(settings, store, time, loggers, secrets);
        try
        {
            source = DifyUsageSource.Create(settings, store, loggers, time, secrets);
        }
        catch
        {
            delivery.Dispose();
            throw;
        }

        cycle = new ExportCycle(settings, store, source, delivery, loggers, time);
    }

    public Task<CycleResult> RunCycleAsync(string trigger, string runId, CancellationToken cancellationToken) =>
        cycle.RunCycleAsync(trigger, runId, cancellationToken);

    public void Dispose()
    {
        source.Dispose();
        delivery.Dispose();
    }
}
