using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>
/// One table says what a Dify answer means (api/controllers/console/auth/login.py and
/// api/libs/exception.py for the login codes); <c>check</c> and the export cycle read the same row;
/// the session handler writes credentials only on the requests that need them.
/// </summary>
public sealed class DifyFailuresTests
{
    private static readonly DifyFailures.LoginFacts Facts = new("ops@example.com", Base64: true, ServerVersion: "1.11.1");

    private static readonly ExporterSettings Settings = new() { DifyBaseUrl = new Uri("https://dify.example.com") };

    [Theory]
    [InlineData(429, "too_many_requests", "", DifyAuthFailure.AccountLocked)]
    [InlineData(401, "authentication_failed", "Invalid encrypted data", DifyAuthFailure.PasswordEncoding)]
    [InlineData(401, "authentication_failed", "Invalid email or password.", DifyAuthFailure.WrongCredentials)]
    [InlineData(400, "email_or_password_mismatch", "", DifyAuthFailure.WrongCredentials)]
    [InlineData(400, "account_banned", "", DifyAuthFailure.AccountDisabled)]
    [InlineData(403, "forbidden", "", DifyAuthFailure.PasswordLoginDisabled)]
    [InlineData(401, "not_setup", "", DifyAuthFailure.NotSetUp)]
    [InlineData(401, "unauthorized", "", DifyAuthFailure.WrongCredentials)]
    [InlineData(500, "unknown", "Internal Server Error", DifyAuthFailure.Other)]
    public void The_login_answer_decides_the_failure_kind(int status, string code, string difyMessage, DifyAuthFailure expected)
    {
        var described = $"Dify POST /console/api/login answered {status} {code}: {difyMessage}";

        var (failure, message) = DifyFailures.LoginRefusal(status, code, described, Facts);

        failure.ShouldBe(expected);
        message.ShouldNotBeNullOrWhiteSpace();
        if (expected == DifyAuthFailure.Other)
        {
            message.ShouldBe(described);
        }
    }

    [Fact]
    public void A_wrong_password_message_names_the_account_and_warns_about_the_lock()
    {
        var (_, message) = DifyFailures.LoginRefusal(401, "authentication_failed", "x", Facts);

        message.ShouldContain("ops@example.com");
        message.ShouldContain("DIFY_PASSWORD");
        message.ShouldContain("lock");
    }

    /// <summary>The failures only new credentials fix (docs/operations.md, "Health": the daemon stops trying them).</summary>
    [Theory]
    [InlineData(DifyAuthFailure.WrongCredentials, DifyCheckFailure.WrongCredentials, true)]
    [InlineData(DifyAuthFailure.PasswordEncoding, DifyCheckFailure.PasswordEncoding, true)]
    [InlineData(DifyAuthFailure.AccountLocked, DifyCheckFailure.AccountLocked, true)]
    [InlineData(DifyAuthFailure.AccountDisabled, DifyCheckFailure.AccountDisabled, true)]
    [InlineData(DifyAuthFailure.AdminKeyRejected, DifyCheckFailure.AdminKeyRejected, true)]
    [InlineData(DifyAuthFailure.NoWorkspace, DifyCheckFailure.NoWorkspace, false)]
    [InlineData(DifyAuthFailure.WorkspaceNotFound, DifyCheckFailure.WorkspaceNotFound, false)]
    [InlineData(DifyAuthFailure.PasswordLoginDisabled, DifyCheckFailure.PasswordLoginDisabled, false)]
    [InlineData(DifyAuthFailure.NotSetUp, DifyCheckFailure.NotSetUp, false)]
    [InlineData(DifyAuthFailure.SessionRejected, DifyCheckFailure.CookieCsrf, false)]
    [InlineData(DifyAuthFailure.Other, DifyCheckFailure.Unknown, false)]
    public void Check_and_the_cycle_read_the_same_row(DifyAuthFailure auth, DifyCheckFailure kind, bool credentialsRejected)
    {
        var ex = new DifyAuthException(auth, "refused");

        var failure = DifyFailures.Classify(ex, Settings);
        var (checkKind, checkFix) = DifyDiagnostics.Diagnose(ex, Settings);

        failure.Kind.ShouldBe(kind);
        failure.CredentialsRejected.ShouldBe(credentialsRejected);
        (checkKind, checkFix).ShouldBe((failure.Kind, failure.Fix));
        failure.Fix.ShouldNotBeNullOrWhiteSpace();
    }

    [Theory]
    [InlineData(404, null, DifyCheckFailure.NotDify)]
    [InlineData(200, "bad_json", DifyCheckFailure.NotDify)]
    [InlineData(401, "unauthorized", DifyCheckFailure.CookieCsrf)]
    [InlineData(502, null, DifyCheckFailure.HttpError)]
    [InlineData(null, "timeout", DifyCheckFailure.Timeout)]
    public void Api_answers_map_to_a_kind_with_a_fix(int? status, string? code, DifyCheckFailure expected)
    {
        var failure = DifyFailures.Classify(new DifyApiException("x", "/console/api/apps", status, code, null), Settings);

        failure.Kind.ShouldBe(expected);
        failure.CredentialsRejected.ShouldBeFalse();
    }

    [Fact]
    public async Task Credentials_go_only_on_requests_that_need_them_and_a_401_sends_the_same_request_again_with_the_new_session()
    {
        var time = new FakeClock(new DateTimeOffset(2025, 11, 22, 0, 0, 0, TimeSpan.Zero), FakeTimers.Real);
        var fake = new FakeDify(time, FakeAuthMode.Legacy);
        using var client = new DifyConsoleClient(DifyAuthTests.Settings(), new SecretRegistry(), new FakeLogs(), time, fake);
        await client.GetProfileAsync(TestContext.Current.CancellationToken);
        var reject = 1;
        var profiles = new List<string?>();
        fake.Intercept = r =>
        {
            if (!r.RequestUri!.AbsolutePath.EndsWith("/profile", StringComparison.Ordinal))
            {
                r.Headers.Authorization.ShouldBeNull($"{r.RequestUri.AbsolutePath} needs no credentials");
                return null;
            }

            // Read the header now: a request sent again is the same message with new credentials.
            profiles.Add(r.Headers.Authorization?.Parameter);
            return Interlocked.Exchange(ref reject, 0) == 1 ? FakeDify.Error(System.Net.HttpStatusCode.Unauthorized, "unauthorized", "Token has expired.") : null;
        };

        await client.GetProfileAsync(TestContext.Current.CancellationToken);

        profiles.Count.ShouldBe(2);
        profiles[0].ShouldNotBeNull();
        profiles[1].ShouldNotBeNull();
        profiles[1].ShouldNotBe(profiles[0], "sent again with the refreshed session");
        fake.Requests.Where(r => r.RequestUri!.AbsolutePath.EndsWith("/login", StringComparison.Ordinal)).ShouldAllBe(r => r.Headers.Authorization == null);
        fake.Refreshes.ShouldBe(1);
    }
}
