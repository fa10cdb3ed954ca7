using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

public partial class DifyAuthTests
{
    private static readonly DateTimeOffset Now = new(2025, 11, 22, 0, 0, 0, TimeSpan.Zero);

    internal static ExporterSettings Settings(Action<ExporterSettings>? _ = null) => new()
    {
        DifyBaseUrl = new Uri("http://dify.test"),
        DifyEmail = "ops@example.com",
        DifyPassword = "S3cure-Passw0rd!",
        DifyFetchRetryCount = 2,
        DifyFetchRetryDelay = TimeSpan.FromMilliseconds(1),
        DifyFetchTimeout = TimeSpan.FromSeconds(20),
    };

    private static (DifyConsoleClient Client, FakeDify Fake, FakeClock Time, FakeLogs Logs, SecretRegistry Secrets) Create(FakeAuthMode mode, ExporterSettings? settings = null, Action<FakeDify>? configure = null)
    {
        var time = new FakeClock(Now, FakeTimers.Real);
        var fake = new FakeDify(time, mode);
        configure?.Invoke(fake);
        var logs = new FakeLogs();
        var secrets = new SecretRegistry();
        return (new DifyConsoleClient(settings ?? Settings(), secrets, logs, time, fake), fake, time, logs, secrets);
    }

    [Theory]
    [InlineData(FakeAuthMode.Legacy, false, null, "plain")]
    [InlineData(FakeAuthMode.Cookie, false, null, "plain")]
    [InlineData(FakeAuthMode.Cookie, true, null, "plain")]
    [InlineData(FakeAuthMode.CookieBase64, false, null, "base64")]
    [InlineData(FakeAuthMode.CookieBase64, true, null, "base64")]
    [InlineData(FakeAuthMode.CookieBase64, true, "dify.test", "base64")]
    public async Task Every_era_logs_in_once_and_reads_profile(FakeAuthMode mode, bool secure, string? cookieDomain, string encoding)
    {
        var (client, fake, _, logs, _) = Create(mode, configure: f => { f.Secure = secure; f.CookieDomain = cookieDomain; });
        using var _c = client;
        var profile = await client.GetProfileAsync(TestContext.Current.CancellationToken);
        var apps = await client.ListAppsAsync(TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);

        profile.Timezone.ShouldBe("Asia/Tokyo");
        apps.Count.ShouldBe(5);
        fake.Logins.ShouldBe(1);
        fake.FailedLogins.ShouldBe(0);
        client.ServerInfo.PasswordEncoding.ShouldBe(encoding);
        fake.LoginPasswords.Single().ShouldBe(encoding == "base64" ? "UzNjdXJlLVBhc3N3MHJkIQ==" : "S3cure-Passw0rd!");
        var expectedNames = mode == FakeAuthMode.Legacy ? Array.Empty<string>()
            : secure && cookieDomain is null ? ["__Host-access_token", "__Host-refresh_token", "__Host-csrf_token"]
            : ["access_token", "refresh_token", "csrf_token"];
        client.ServerInfo.CookieNames.ShouldBe(expectedNames);
        client.ServerInfo.Era.ShouldBe(mode == FakeAuthMode.Legacy ? DifyAuthEra.Legacy : DifyAuthEra.Cookie);
        // system-features is read before logging in.
        fake.Paths.First().ShouldBe("/console/api/system-features");
        if (mode != FakeAuthMode.Legacy)
        {
            // CSRF header on GETs too, equal to the csrf cookie sent under its received name.
            var get = fake.Requests.Last();
            get.Method.ShouldBe(HttpMethod.Get);
            get.Headers.GetValues("X-CSRF-Token").Single().ShouldNotBeNullOrEmpty();
            get.Headers.GetValues("Cookie").Single().ShouldContain(expectedNames[2] + "=" + get.Headers.GetValues("X-CSRF-Token").Single());
        }

        logs.AllText.ShouldNotContain("S3cure-Passw0rd!");
        logs.AllText.ShouldNotContain("UzNjdXJlLVBhc3N3MHJkIQ==");
    }

    [Theory]
    [InlineData(PasswordEncoding.Plain, FakeAuthMode.CookieBase64)]
    [InlineData(PasswordEncoding.Base64, FakeAuthMode.Cookie)]
    public async Task Wrong_encoding_override_fails_once_with_a_clear_error(PasswordEncoding encoding, FakeAuthMode mode)
    {
        var (client, fake, _, _, _) = Create(mode, Settings() with { DifyPasswordEncoding = encoding });
        using var _c = client;
        var ex = await Should.ThrowAsync<DifyAuthException>(() => client.ConnectAsync(TestContext.Current.CancellationToken));
        fake.LoginPasswords.Count.ShouldBe(1);
        ex.Failure.ShouldBe(mode == FakeAuthMode.CookieBase64 ? DifyAuthFailure.PasswordEncoding : DifyAuthFailure.WrongCredentials);
        ex.Message.ShouldNotContain("S3cure-Passw0rd!");
    }

    [Theory]
    [InlineData(FakeAuthMode.Legacy)]
    [InlineData(FakeAuthMode.Cookie)]
    [InlineData(FakeAuthMode.CookieBase64)]
    public async Task Wrong_password_is_one_attempt_and_not_retried(FakeAuthMode mode)
    {
        var (client, fake, _, logs, _) = Create(mode, configure: f => f.Password = "other");
        using var _c = client;
        var ex = await Should.ThrowAsync<DifyAuthException>(() => client.GetProfileAsync(TestContext.Current.CancellationToken));
        ex.Failure.ShouldBe(DifyAuthFailure.WrongCredentials);
        fake.LoginPasswords.Count.ShouldBe(1);
        ex.Message.ShouldContain("DIFY_PASSWORD");
        logs.AllText.ShouldNotContain("S3cure-Passw0rd!");
    }

    [Fact]
    public async Task Locked_account_and_no_workspace_are_classified()
    {
        var (client, fake, _, _, _) = Create(FakeAuthMode.Cookie, configure: f => f.Password = "x");
        using (client)
        {
            // Without a state store (no LoginGuard) only the one-attempt-per-cycle rule applies.
            for (var i = 0; i < 5; i++)
            {
                client.BeginCycle();
                await Should.ThrowAsync<DifyAuthException>(() => client.ConnectAsync(TestContext.Current.CancellationToken));
                await Should.ThrowAsync<DifyAuthException>(() => client.ConnectAsync(TestContext.Current.CancellationToken));
            }

            client.BeginCycle();
            var locked = await Should.ThrowAsync<DifyAuthException>(() => client.ConnectAsync(TestContext.Current.CancellationToken));
            locked.Failure.ShouldBe(DifyAuthFailure.AccountLocked);
            // 429 on login is never retried.
            fake.LoginPasswords.Count.ShouldBe(6);
        }

        var (client2, _, _, _, _) = Create(FakeAuthMode.CookieBase64, configure: f => f.NoWorkspace = true);
        using (client2)
        {
            (await Should.ThrowAsync<DifyAuthException>(() => client2.ConnectAsync(TestContext.Current.CancellationToken))).Failure.ShouldBe(DifyAuthFailure.NoWorkspace);
        }
    }

    [Theory]
    [InlineData(FakeAuthMode.Legacy)]
    [InlineData(FakeAuthMode.Cookie)]
    [InlineData(FakeAuthMode.CookieBase64)]
    public async Task Refreshes_before_expiry_with_rotation(FakeAuthMode mode)
    {
        var (client, fake, time, _, secrets) = Create(mode, configure: f => { f.TokenTtl = TimeSpan.FromMinutes(10); f.Secure = true; });
        using var _c = client;
        await client.GetProfileAsync(TestContext.Current.CancellationToken);
        for (var i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromMinutes(9.5));
            (await client.GetProfileAsync(TestContext.Current.CancellationToken)).Email.ShouldBe("ops@example.com");
        }

        fake.Logins.ShouldBe(1);
        fake.Refreshes.ShouldBe(5);
        fake.RefreshRejections.ShouldBe(0);
        // Received tokens are registered as secrets.
        var cookieOrBearer = fake.Requests.Last().Headers.Authorization!.Parameter!;
        secrets.Mask("x " + cookieOrBearer).ShouldBe("x ***");
    }

    [Fact]
    public async Task Concurrent_401s_after_expiry_cause_exactly_one_refresh()
    {
        var (client, fake, time, _, _) = Create(FakeAuthMode.CookieBase64, Settings() with { DifyFetchConcurrency = 8 }, f => f.TokenTtl = TimeSpan.FromMinutes(10));
        using var _c = client;
        await client.GetProfileAsync(TestContext.Current.CancellationToken);
        // Invalidate every issued token on the server side by jumping past exp: the client's own
        // schedule sees it too, so use a 401 path: make the server expire tokens early.
        time.Advance(TimeSpan.FromMinutes(11));
        var tasks = Enumerable.Range(0, 16).Select(_ => client.GetProfileAsync(TestContext.Current.CancellationToken)).ToArray();
        await Task.WhenAll(tasks);
        fake.Refreshes.ShouldBe(1);
        fake.RefreshRejections.ShouldBe(0);
        fake.Logins.ShouldBe(1);
    }

    [Fact]
    public async Task A_401_triggers_refresh_and_a_failed_refresh_one_new_login()
    {
        var (client, fake, _, _, _) = Create(FakeAuthMode.Cookie);
        using var _c = client;
        await client.GetProfileAsync(TestContext.Current.CancellationToken);
        var reject = 1;
        fake.Intercept = r => r.RequestUri!.AbsolutePath.EndsWith("/profile", StringComparison.Ordinal) && Interlocked.Exchange(ref reject, 0) == 1
            ? FakeDify.Error(System.Net.HttpStatusCode.Unauthorized, "unauthorized", "Token has expired.")
            : null;
        await client.GetProfileAsync(TestContext.Current.CancellationToken);
        fake.Refreshes.ShouldBe(1);
        fake.Logins.ShouldBe(1);

        // Now the refresh endpoint refuses: the client logs in again, once.
        reject = 1;
        fake.Intercept = r =>
            r.RequestUri!.AbsolutePath.EndsWith("/refresh-token", StringComparison.Ordinal) ? FakeDify.Json(System.Net.HttpStatusCode.Unauthorized, "{\"result\":\"fail\",\"message\":\"Invalid refresh token\"}")
            : r.RequestUri!.AbsolutePath.EndsWith("/profile", StringComparison.Ordinal) && Interlocked.Exchange(ref reject, 0) == 1 ? FakeDify.Error(System.Net.HttpStatusCode.Unauthorized, "unauthorized", "Token has expired.")
            : null;
        await client.GetProfileAsync(TestContext.Current.CancellationToken);
        fake.Logins.ShouldBe(2);
    }

    [Fact]
    public async Task Retries_5xx_and_429_then_gives_up_with_a_masked_error()
    {
        var (client, fake, _, _, secrets) = Create(FakeAuthMode.Cookie);
        using var _c = client;
        await client.GetProfileAsync(TestContext.Current.CancellationToken);
        var calls = 0;
        fake.Intercept = r =>
        {
            if (!r.RequestUri!.AbsolutePath.EndsWith("/profile", StringComparison.Ordinal))
            {
                return null;
            }

            return Interlocked.Increment(ref calls) switch
            {
                1 => FakeDify.Json(System.Net.HttpStatusCode.BadGateway, "<html>502 Bad Gateway nginx</html>"),
                2 => FakeDify.Json(System.Net.HttpStatusCode.TooManyRequests, "{}"),
                _ => null,
            };
        };
        (await client.GetProfileAsync(TestContext.Current.CancellationToken)).Timezone.ShouldBe("Asia/Tokyo");
        calls.ShouldBe(3);

        var cookie = fake.Requests.Last().Headers.GetValues("Cookie").Single();
        fake.Intercept = r => r.RequestUri!.AbsolutePath.EndsWith("/profile", StringComparison.Ordinal)
            ? FakeDify.Json(System.Net.HttpStatusCode.InternalServerError, "{\"code\":\"unknown\",\"message\":\"boom " + cookie + "\",\"status\":500}")
            : null;
        var ex = await Should.ThrowAsync<DifyApiException>(() => client.GetProfileAsync(TestContext.Current.CancellationToken));
        ex.StatusCode.ShouldBe(500);
        ex.Message.ShouldNotContain(cookie.Split('=')[1].Split(';')[0]);
        ex.BodyExcerpt!.ShouldContain("***");
        _ = secrets;
    }

    [Fact]
    public async Task Timeouts_are_retried_and_reported()
    {
        var (client, fake, _, _, _) = Create(FakeAuthMode.Legacy, Settings() with { DifyFetchTimeout = TimeSpan.FromMilliseconds(200), DifyFetchRetryCount = 1 });
        using var _c = client;
        await client.GetProfileAsync(TestContext.Current.CancellationToken);
        var calls = 0;
        fake.Latency = r =>
        {
            if (r.RequestUri!.AbsolutePath.EndsWith("/profile", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref calls);
                return TimeSpan.FromSeconds(5);
            }

            return TimeSpan.Zero;
        };
        var ex = await Should.ThrowAsync<DifyApiException>(() => client.GetProfileAsync(TestContext.Current.CancellationToken));
        ex.Code.ShouldBe("timeout");
        calls.ShouldBe(2);
    }

    [Fact]
    public async Task Admin_key_sends_bearer_and_workspace_header_without_login()
    {
        var settings = Settings() with { DifyEmail = null, DifyPassword = null, DifyApiToken = "admin-key-123456", DifyWorkspaceId = "w1" };
        var (client, fake, _, _, _) = Create(FakeAuthMode.Legacy, settings, f => f.AdminKey = "admin-key-123456");
        using var _c = client;
        (await client.GetProfileAsync(TestContext.Current.CancellationToken)).Email.ShouldBe("ops@example.com");
        fake.LoginPasswords.ShouldBeEmpty();
        var last = fake.Requests.Last();
        last.Headers.Authorization!.Parameter.ShouldBe("admin-key-123456");
        last.Headers.GetValues("X-WORKSPACE-ID").Single().ShouldBe("w1");

        var (bad, _, _, _, _) = Create(FakeAuthMode.Legacy, settings with { DifyWorkspaceId = "w9" }, f => f.AdminKey = "admin-key-123456");
        using var _b = bad;
        (await Should.ThrowAsync<DifyAuthException>(() => bad.GetProfileAsync(TestContext.Current.CancellationToken))).Failure.ShouldBe(DifyAuthFailure.AdminKeyRejected);
    }

    [Fact]
    public async Task Workspace_is_switched_when_configured()
    {
        var (client, fake, _, _, _) = Create(FakeAuthMode.Cookie, Settings() with { DifyWorkspaceId = "w2" });
        using var _c = client;
        await client.GetProfileAsync(TestContext.Current.CancellationToken);
        fake.Paths.ShouldContain("/console/api/workspaces/switch");

        var (missing, _, _, _, _) = Create(FakeAuthMode.Cookie, Settings() with { DifyWorkspaceId = "nope" });
        using var _m = missing;
        (await Should.ThrowAsync<DifyAuthException>(() => missing.GetProfileAsync(TestContext.Current.CancellationToken))).Failure.ShouldBe(DifyAuthFailure.WorkspaceNotFound);
    }
}
