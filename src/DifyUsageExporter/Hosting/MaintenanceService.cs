using DifyUsageExporter.Sync;

namespace DifyUsageExporter.Hosting;

/// <summary>
/// Runs the daily backup, retention and verify (<see cref="MaintenanceJobs"/>) beside the export
/// schedule in the daemon's host; it stops with the host (docs/operations.md).
/// </summary>
internal sealed class MaintenanceService(MaintenanceJobs jobs) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => jobs.RunScheduleAsync(stoppingToken);
}
