using System.Text;
using DifyUsageExporter.Usage;
using DifyUsageExporter.Web;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Web;

/// <summary>The dashboard's reconcile section shows the stored verdict and names every unexplained app-day.</summary>
public class DashboardReconcileTests
{
    private static readonly DateTimeOffset T0 = new(2026, 7, 9, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Without_a_reconcile_the_section_says_so()
    {
        var html = new StringBuilder();
        DashboardStatusSections.Reconcile(html, null);
        html.ToString().ShouldContain("No reconcile yet.");
    }

    [Fact]
    public void An_unexplained_difference_is_named_by_app_and_day_and_matches_are_not_listed()
    {
        var report = new ReconcileReport(T0, new DateOnly(2026, 7, 1), new DateOnly(2026, 7, 2), "Asia/Tokyo",
        [
            new ReconcileRow("app-1", "Agent <Workflow>", "workflow", new DateOnly(2026, 7, 1), 900, 0.01m, 1000, null, ReconcileStatus.Unexplained, "the ledger has 100 tokens less than Dify"),
            new ReconcileRow("app-2", "Quiet Chat", "chat", new DateOnly(2026, 7, 2), 50, 0.001m, 50, 0.001m, ReconcileStatus.Match, null),
        ]);
        var html = new StringBuilder();
        DashboardStatusSections.Reconcile(html, report.ToJson(indented: false, maxRows: 20));
        var page = html.ToString();

        page.ShouldContain("Unexplained differences");
        page.ShouldContain("2026-07-01 to 2026-07-02");
        page.ShouldContain("1 unexplained (100 tokens)");
        page.ShouldContain("<td>Agent &lt;Workflow&gt;</td><td>2026-07-01</td><td>900</td><td>1000</td><td>unexplained</td>");
        page.ShouldNotContain("Quiet Chat");
    }
}
