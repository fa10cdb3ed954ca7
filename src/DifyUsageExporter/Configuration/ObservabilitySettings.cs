namespace DifyUsageExporter.Configuration;

/// <summary>DASHBOARD_*: the opt-in usage dashboard and API on the health server (docs/operations.md).</summary>
public sealed record DashboardSettings
{
    public bool Enabled { get; init; }
    public string? User { get; init; }
    public string? Password { get; init; }
}
