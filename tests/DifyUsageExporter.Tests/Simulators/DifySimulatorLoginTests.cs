using System.Net;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Simulators;

public sealed class DifySimulatorLoginTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Cookie_mode_over_http_sets_bare_names_in_werkzeug_format()
    {
        var clock = new FakeTimeProvider(T0);
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Cookie, Clock = clock });
        using var s = new SimSession(sim);
        using var r = await s.LoginAsync();

        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await r.Content.ReadAsStringAsync(SimSession.Ct)).ShouldBe("{\"result\":\"success\"}");
        r.Headers.GetValues("X-Version").Single().ShouldBe("1.9.1");
        var cookies = r.Headers.GetValues("Set-Cookie").ToList();
        cookies.Count.ShouldBe(3);
        cookies[0].ShouldStartWith("access_token=");
        cookies[0].ShouldEndWith("; Expires=Tue, 10 Mar 2026 13:00:00 GMT; Max-Age=3600; HttpOnly; Path=/; SameSite=Lax");
        cookies[1].ShouldStartWith("refresh_token=");
        cookies[1].ShouldEndWith("; Expires=Thu, 09 Apr 2026 12:00:00 GMT; Max-Age=2592000; HttpOnly; Path=/; SameSite=Lax");
        cookies[1].Split(';')[0]["refresh_token=".Length..].Length.ShouldBe(128);
        cookies[2].ShouldStartWith("csrf_token=");
        cookies[2].ShouldEndWith("; Expires=Tue, 10 Mar 2026 13:00:00 GMT; Max-Age=3600; Path=/; SameSite=Lax");
        sim.Counters.Logins.ShouldBe(1);
    }

    [Fact]
    public async Task Secure_mode_uses_host_prefix_and_secure_unless_a_cookie_domain_is_set()
    {
        await using (var sim = await SimSession.StartAsync(new DifySimulatorOptions { IsSecure = true }))
        {
            using var s = new SimSession(sim);
            using var r = await s.LoginAsync();
            var cookies = r.Headers.GetValues("Set-Cookie").ToList();
            cookies.Select(c => c.Split('=')[0]).ShouldBe(["__Host-access_token", "__Host-refresh_token", "__Host-csrf_token"]);
            cookies.ShouldAllBe(c => c.Contains("; Secure;") && !c.Contains("Domain="));
        }

        await using (var sim = await SimSession.StartAsync(new DifySimulatorOptions { IsSecure = true, CookieDomain = ".example.com" }))
        {
            using var s = new SimSession(sim);
            using var r = await s.LoginAsync();
            var cookies = r.Headers.GetValues("Set-Cookie").ToList();
            cookies.Select(c => c.Split('=')[0]).ShouldBe(["access_token", "refresh_token", "csrf_token"]);
            cookies.ShouldAllBe(c => c.Contains("; Domain=example.com; Expires=") && c.Contains("; Secure;"));
            (await s.GetAsync("apps")).Status.ShouldBe(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task Legacy_login_returns_json_tokens_and_wrong_password_is_400()
    {
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Legacy });
        using var s = new SimSession(sim);
        using (var bad = await s.LoginAsync("wrong"))
        {
            bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await bad.Content.ReadAsStringAsync(SimSession.Ct)).ShouldContain("\"code\":\"email_or_password_mismatch\"");
        }

        using var ok = await s.LoginAsync();
        ok.Headers.Contains("Set-Cookie").ShouldBeFalse();
        s.Bearer.ShouldNotBeNull();
        s.RefreshToken!.Length.ShouldBe(128);
        (await s.GetAsync("apps")).Status.ShouldBe(HttpStatusCode.OK); // Bearer only, no CSRF
    }

    [Fact]
    public async Task Cookie_era_login_errors()
    {
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64 });
        using var s = new SimSession(sim);
        using (var notB64 = await s.LoginAsync("not base64!", base64: false))
        {
            notB64.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            notB64.Headers.WwwAuthenticate.ToString().ShouldBe("Bearer realm=\"api\"");
            (await notB64.Content.ReadAsStringAsync(SimSession.Ct)).ShouldBe("{\"code\":\"authentication_failed\",\"message\":\"Invalid encrypted data\",\"status\":401}");
        }

        using (var wrong = await s.LoginAsync("wrong"))
        {
            wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            (await wrong.Content.ReadAsStringAsync(SimSession.Ct)).ShouldContain("Invalid email or password.");
        }

        using var ok = await s.LoginAsync();
        ok.StatusCode.ShouldBe(HttpStatusCode.OK);
        ok.Headers.GetValues("X-Version").Single().ShouldBe("1.11.1");
    }

    [Fact]
    public async Task Five_failures_lock_the_account_for_the_lock_duration_even_with_the_right_password()
    {
        var clock = new FakeTimeProvider(T0);
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { Clock = clock, LoginLockoutDuration = TimeSpan.FromHours(24) });
        using var s = new SimSession(sim);
        for (var i = 0; i < 5; i++)
        {
            using var r = await s.LoginAsync("wrong");
            r.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        using (var locked = await s.LoginAsync())
        {
            locked.StatusCode.ShouldBe((HttpStatusCode)429);
            locked.Headers.RetryAfter.ShouldBeNull();
            (await locked.Content.ReadAsStringAsync(SimSession.Ct)).ShouldContain("email_code_login_limit");
        }

        clock.Advance(TimeSpan.FromHours(23));
        using (var still = await s.LoginAsync())
        {
            still.StatusCode.ShouldBe((HttpStatusCode)429);
        }

        clock.Advance(TimeSpan.FromHours(1));
        using var ok = await s.LoginAsync();
        ok.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("setup", 401, "not_setup")]
    [InlineData("disabled", 403, "forbidden")]
    [InlineData("banned", 400, "account_banned")]
    [InlineData("noworkspace", 200, "workspace not found")]
    public async Task Special_login_outcomes(string situation, int status, string fragment)
    {
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions
        {
            IsSetUp = situation != "setup",
            PasswordLoginEnabled = situation != "disabled",
            AccountBanned = situation == "banned",
            AccountHasNoWorkspace = situation == "noworkspace",
        });
        using var s = new SimSession(sim);
        using var r = await s.LoginAsync();
        ((int)r.StatusCode).ShouldBe(status);
        (await r.Content.ReadAsStringAsync(SimSession.Ct)).ShouldContain(fragment);
        r.Headers.Contains("Set-Cookie").ShouldBeFalse();
    }

    [Fact]
    public async Task System_features_needs_no_auth_and_every_response_carries_x_version()
    {
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { Version = "1.10.1" });
        using var http = new HttpClient { BaseAddress = sim.BaseUrl };
        using var features = await http.GetAsync(new Uri("console/api/system-features", UriKind.Relative), SimSession.Ct);
        features.StatusCode.ShouldBe(HttpStatusCode.OK);
        features.Headers.GetValues("X-Version").Single().ShouldBe("1.10.1");
        using var missing = await http.GetAsync(new Uri("console/api/nope", UriKind.Relative), SimSession.Ct);
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        missing.Headers.GetValues("X-Version").Single().ShouldBe("1.10.1");
        using var unauth = await http.GetAsync(new Uri("console/api/apps", UriKind.Relative), SimSession.Ct);
        unauth.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await unauth.Content.ReadAsStringAsync(SimSession.Ct)).ShouldContain("Invalid Authorization token.");
    }
}
