using System.Net;
using System.Text.Json.Nodes;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Simulators;

public sealed class DifySimulatorSessionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Csrf_is_required_on_get_and_must_match_the_cookie_of_the_server_side_name()
    {
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { IsSecure = true });
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();

        using (var noHeader = await s.SendAsync(s.Request(HttpMethod.Get, "apps", csrf: false)))
        {
            noHeader.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            (await noHeader.Content.ReadAsStringAsync(SimSession.Ct)).ShouldContain("CSRF token is missing or invalid.");
        }

        // The TypeScript exporter's mistake in reverse: bare names against an https-configured server.
        var renamed = s.Cookies.ToDictionary(kv => kv.Key.Replace("__Host-", string.Empty, StringComparison.Ordinal), kv => kv.Value);
        s.Cookies.Clear();
        foreach (var kv in renamed)
        {
            s.Cookies[kv.Key] = kv.Value;
        }

        (await s.GetAsync("apps")).Status.ShouldBe(HttpStatusCode.Unauthorized);

        // Bearer only (no cookies) fails CSRF too.
        s.Bearer = renamed["access_token"];
        s.Cookies.Clear();
        (await s.GetAsync("apps")).Status.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Bearer_with_csrf_cookie_works_and_a_stale_access_cookie_wins_over_a_fresh_bearer()
    {
        var clock = new FakeTimeProvider(T0);
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { Clock = clock, AccessTokenTtl = TimeSpan.FromMinutes(10) });
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();
        var staleAccess = s.Cookies["access_token"];
        s.Bearer = staleAccess;
        s.Cookies.Remove("access_token");
        (await s.GetAsync("apps")).Status.ShouldBe(HttpStatusCode.OK);

        clock.Advance(TimeSpan.FromMinutes(9));
        (await s.LoginAsync()).Dispose(); // fresh cookies, incl. a fresh access cookie
        s.Bearer = s.Cookies["access_token"];
        clock.Advance(TimeSpan.FromMinutes(2)); // the first access token has expired, the second not
        s.Cookies["access_token"] = staleAccess;
        var (status, body) = await s.GetAsync("apps");
        status.ShouldBe(HttpStatusCode.Unauthorized);
        body!["message"]!.GetValue<string>().ShouldBe("Token has expired.");
    }

    [Fact]
    public async Task Tokens_expire_on_the_injected_clock_and_refresh_rotates()
    {
        var clock = new FakeTimeProvider(T0);
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { Clock = clock, AccessTokenTtl = TimeSpan.FromMinutes(5) });
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();
        clock.Advance(TimeSpan.FromMinutes(5));
        var (status, body) = await s.GetAsync("account/profile");
        status.ShouldBe(HttpStatusCode.Unauthorized);
        body!["message"]!.GetValue<string>().ShouldBe("Token has expired.");

        var oldRefresh = s.Cookies["refresh_token"];
        using (var refresh = await s.SendAsync(RefreshRequest(s, oldRefresh)))
        {
            refresh.StatusCode.ShouldBe(HttpStatusCode.OK);
            refresh.Headers.GetValues("Set-Cookie").Count().ShouldBe(3);
            await s.AbsorbAsync(refresh);
        }

        (await s.GetOkAsync("account/profile"))["timezone"]!.GetValue<string>().ShouldBe("Asia/Tokyo");
        using var replay = await s.SendAsync(RefreshRequest(s, oldRefresh));
        replay.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await replay.Content.ReadAsStringAsync(SimSession.Ct)).ShouldContain("\"result\":\"fail\"");
        sim.Counters.Refreshes.ShouldBe(1);
        sim.Counters.RefreshFailures.ShouldBe(1);
    }

    [Fact]
    public async Task Concurrent_refreshes_with_the_same_token_succeed_once()
    {
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions());
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();
        var token = s.Cookies["refresh_token"];
        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => s.SendAsync(RefreshRequest(s, token))));
        results.Count(r => r.StatusCode == HttpStatusCode.OK).ShouldBe(1);
        results.Count(r => r.StatusCode == HttpStatusCode.Unauthorized).ShouldBe(1);
        foreach (var r in results)
        {
            r.Dispose();
        }
    }

    [Fact]
    public async Task Legacy_refresh_uses_a_json_body_and_logout_is_get()
    {
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Legacy });
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();
        var first = s.RefreshToken!;
        using (var r = await s.Http.PostAsync(new Uri("console/api/refresh-token", UriKind.Relative), SimSession.Json($"{{\"refresh_token\":\"{first}\"}}"), SimSession.Ct))
        {
            r.StatusCode.ShouldBe(HttpStatusCode.OK);
            await s.AbsorbAsync(r);
        }

        s.RefreshToken.ShouldNotBe(first);
        using (var logout = await s.SendAsync(s.Request(HttpMethod.Get, "logout")))
        {
            logout.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using var after = await s.Http.PostAsync(new Uri("console/api/refresh-token", UriKind.Relative), SimSession.Json($"{{\"refresh_token\":\"{s.RefreshToken}\"}}"), SimSession.Ct);
        after.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Cookie_logout_is_post_and_clears_cookies()
    {
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions());
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();
        using var logout = await s.SendAsync(s.Request(HttpMethod.Post, "logout"));
        logout.StatusCode.ShouldBe(HttpStatusCode.OK);
        logout.Headers.GetValues("Set-Cookie").ShouldAllBe(c => c.Contains("Max-Age=0") && c.Contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT"));
        sim.Auth.ActiveRefreshTokens.ShouldBe(0);
    }

    [Fact]
    public async Task Refresh_bug_mode_of_1_9_2_reads_only_the_unprefixed_cookie()
    {
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { IsSecure = true, RefreshReadsUnprefixedCookie = true, Version = "1.9.2" });
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();
        using var r = await s.SendAsync(RefreshRequest(s, s.Cookies["__Host-refresh_token"]));
        r.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await r.Content.ReadAsStringAsync(SimSession.Ct)).ShouldContain("No refresh token provided");
    }

    [Fact]
    public async Task Admin_key_with_workspace_header_and_workspace_switch()
    {
        var second = new SimWorkspace { Name = "Second", Apps = [new SimApp { Mode = "chat", Name = "Only in second" }] };
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { AdminApiKey = "admin-key-1", AdditionalWorkspaces = [second] });
        using var admin = new SimSession(sim) { Bearer = "admin-key-1" };
        var req = admin.Request(HttpMethod.Get, "apps");
        req.Headers.Add("X-WORKSPACE-ID", second.Id.ToString());
        using (var r = await admin.SendAsync(req))
        {
            r.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await r.Content.ReadAsStringAsync(SimSession.Ct)).ShouldContain("Only in second");
        }

        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();
        var list = await s.GetOkAsync("workspaces");
        list["workspaces"]!.AsArray().Count.ShouldBe(2);
        (await s.GetOkAsync("apps"))["total"]!.GetValue<int>().ShouldBe(0);
        var sw = s.Request(HttpMethod.Post, "workspaces/switch");
        sw.Content = SimSession.Json(new JsonObject { ["tenant_id"] = second.Id.ToString() }.ToJsonString());
        (await s.SendAsync(sw)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await s.GetOkAsync("apps"))["total"]!.GetValue<int>().ShouldBe(1);
    }

    private static HttpRequestMessage RefreshRequest(SimSession s, string token)
    {
        var name = s.Cookies.Keys.First(k => k.EndsWith("refresh_token", StringComparison.Ordinal));
        var req = new HttpRequestMessage(HttpMethod.Post, new Uri("console/api/refresh-token", UriKind.Relative));
        req.Headers.Add("Cookie", name + "=" + token);
        return req;
    }
}
