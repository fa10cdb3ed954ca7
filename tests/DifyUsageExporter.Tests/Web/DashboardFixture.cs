using Xunit;

namespace DifyUsageExporter.Tests.Web;

/// <summary>One exporter with a filled ledger and the dashboard on, shared by the dashboard tests (the cycle takes seconds).</summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public DashboardHarness Harness { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Harness = await DashboardHarness.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync() => await Harness.DisposeAsync();
}
