using System.Net;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Simulators;

public sealed class DifySimulatorVariantTests
{
    [Fact]
    public async Task Admin_key_fails_csrf_in_cookie_mode_without_the_exemption()
    {
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { AdminApiKey = "k", AdminKeyCsrfExempt = false });
        using var admin = new SimSession(sim) { Bearer = "k" };
        var req = admin.Request(HttpMethod.Get, "apps");
        req.Headers.Add("X-WORKSPACE-ID", sim.Options.Workspace.Id.ToString());
        using var r = await admin.SendAsync(req);
        r.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await r.Content.ReadAsStringAsync(SimSession.Ct)).ShouldContain("CSRF token is missing or invalid.");
    }

    [Fact]
    public async Task Early_cookie_era_csrf_token_carries_user_id()
    {
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { CsrfAccountClaim = "user_id" });
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();
        var payload = s.Csrf!.Split('.')[1].Replace('-', '+').Replace('_', '/');
        var json = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=')));
        json.ShouldContain($"\"user_id\":\"{sim.Options.AccountId}\"");
        json.ShouldNotContain("\"sub\"");
        (await s.GetAsync("apps")).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public void Generated_data_hugs_local_midnights_and_the_dst_day()
    {
        var truth = GroundTruth.Compute(WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 11 }));
        var tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
        var newYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        static TimeSpan FromMidnight(DateTimeOffset t, TimeZoneInfo z)
        {
            var local = TimeZoneInfo.ConvertTime(t, z).TimeOfDay;
            return local < TimeSpan.FromHours(12) ? local : TimeSpan.FromDays(1) - local;
        }

        truth.Events.Count(e => FromMidnight(e.OccurredAt, tokyo) <= TimeSpan.FromMinutes(2)).ShouldBeGreaterThan(3);
        truth.Events.Count(e => FromMidnight(e.OccurredAt, newYork) <= TimeSpan.FromMinutes(2)).ShouldBeGreaterThan(3);
        truth.Events.Count(e => e.LocalDate(newYork) == new DateOnly(2026, 3, 8)).ShouldBeGreaterThan(0);
    }
}
