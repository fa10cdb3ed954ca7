using System.Text;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Tests.Simulators;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>
/// The exporter never locks its Dify account (Dify: 5 failed password logins lock the e-mail for
/// LOGIN_LOCKOUT_DURATION, api/services/account_service.py): one login attempt per cycle, the login
/// POST never retried, rejected credentials and locks remembered in the state store.
/// </summary>
public sealed class LoginLockoutTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 1, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Day = new(2026, 3, 9);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>One "cycle" of the source: what ExportCycle does first (begin, resolve the zone, extract).</summary>
    private static async Task<Exception?> CycleAsync(DifyUsageSource source)
    {
        source.BeginCycle();
        try
        {
            await source.ResolveTimeZoneAsync(Ct);
            await source.ExtractAsync(Day, Day, true, Ct);
            return null;
        }
        catch (Exception ex) when (ex is DifyAuthException or DifyApiException)
        {
            return ex;
        }
    }

    [Fact]
    public async Task A_wrong_password_is_sent_once_and_later_cycles_and_restarts_fail_fast_without_locking_the_account()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64 }, Ct);
        using var h = new SimHarness(sim, tweak: s => s with { DifyPassword = "Wrong-Password-77", DifyFetchRetryCount = 3 });

        var errors = new List<Exception?>();
        for (var cycle = 0; cycle < 7; cycle++)
        {
            errors.Add(await CycleAsync(h.Source));
        }

        sim.Counters.Requests("POST /console/api/login").ShouldBe(1);
        sim.Counters.LoginFailures.ShouldBe(1);
        errors.ShouldAllBe(e => e is DifyAuthException);
        errors[0]!.Message.ShouldContain("rejected the e-mail or password");
        errors[^1]!.Message.ShouldContain("Not logging in to Dify");
        errors[^1]!.Message.ShouldContain("check --dify");
        errors[^1]!.Message.ShouldContain("DIFY_PASSWORD");

        // A restarted exporter (new client, same state store) does not try either.
        using (var restarted = DifyUsageSource.Create(h.Settings, h.Store, h.Logs, h.Time, h.Secrets))
        {
            (await CycleAsync(restarted)).ShouldBeOfType<DifyAuthException>().Message.ShouldContain("Not logging in to Dify");
        }

        sim.Counters.Requests("POST /console/api/login").ShouldBe(1);

        // The state store keeps a fingerprint, never the password (nor its Base64 form).
        var block = await new DifyLoginGuard(h.Store, h.Time).ReadAsync(Ct);
        block.ShouldNotBeNull().Kind.ShouldBe(BlockKind.WrongCredentials);
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(h.Store.Path)!))
        {
            var bytes = Encoding.UTF8.GetString(File.ReadAllBytes(file));
            bytes.ShouldNotContain("Wrong-Password-77");
            bytes.ShouldNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("Wrong-Password-77")));
        }

        // Corrected credentials are tried (once) and clear the memory.
        using var fixedSource = DifyUsageSource.Create(h.Settings with { DifyPassword = sim.Options.Password }, h.Store, h.Logs, h.Time, h.Secrets);
        (await CycleAsync(fixedSource)).ShouldBeNull();
        sim.Counters.Logins.ShouldBe(1);
        (await new DifyLoginGuard(h.Store, h.Time).ReadAsync(Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task Check_dify_makes_its_one_attempt_despite_the_memory_and_its_success_lifts_it()
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64 }, Ct);
        using var h = new SimHarness(sim);
        // As if Dify had refused these credentials earlier and the admin then reset the password to them.
        var guard = new DifyLoginGuard(h.Store, h.Time);
        await guard.RememberAsync(DifyAuthFailure.WrongCredentials, "401 authentication_failed", DifyLoginGuard.Credentials(h.Source.Client.BaseUrl, h.Settings.DifyEmail!, h.Settings.DifyPassword!, h.Settings.DifyPasswordEncoding.ToString()), Ct);

        (await CycleAsync(h.Source)).ShouldBeOfType<DifyAuthException>().Message.ShouldContain("check --dify");
        sim.Counters.Requests("POST /console/api/login").ShouldBe(0);

        var check = await DifyDiagnostics.CheckAsync(h.Settings, h.Secrets, h.Logs, h.Time, new DifyLoginGuard(h.Store, h.Time) { Bypass = true }, null, Ct);

        check.Ok.ShouldBeTrue(check.Message);
        (await guard.ReadAsync(Ct)).ShouldBeNull();
        (await CycleAsync(h.Source)).ShouldBeNull();
    }

    [Fact]
    public async Task A_locked_account_is_remembered_until_the_lock_expires_then_one_attempt_is_made()
    {
        var clock = new FakeTimeProvider(T0);
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64, Clock = clock, LoginLockoutDuration = TimeSpan.FromHours(24) }, Ct);
        using (var s = new SimSession(sim))
        {
            for (var i = 0; i < 5; i++)
            {
                using var r = await s.LoginAsync("someone-else-guessing");
            }
        }

        using var h = new SimHarness(sim, clock);
        var before = sim.Counters.Requests("POST /console/api/login");

        var first = await CycleAsync(h.Source);

        first.ShouldBeOfType<DifyAuthException>().Failure.ShouldBe(DifyAuthFailure.AccountLocked);
        sim.Counters.Requests("POST /console/api/login").ShouldBe(before + 1);
        clock.Advance(TimeSpan.FromHours(12));
        var later = await CycleAsync(h.Source);
        later.ShouldBeOfType<DifyAuthException>().Message.ShouldContain("expires by 2026-03-11T01:00:00Z");
        sim.Counters.Requests("POST /console/api/login").ShouldBe(before + 1);

        clock.Advance(TimeSpan.FromHours(12));
        (await CycleAsync(h.Source)).ShouldBeNull();
        sim.Counters.Requests("POST /console/api/login").ShouldBe(before + 2);
        sim.Counters.Logins.ShouldBe(1);
    }

    [Theory]
    [InlineData(DifyFaultKind.InternalServerError)]
    [InlineData(DifyFaultKind.BadGatewayHtml)]
    [InlineData(DifyFaultKind.DropConnection)]
    public async Task A_failed_login_POST_is_not_retried_in_the_cycle_nor_remembered(DifyFaultKind fault)
    {
        await using var sim = await DifySimulator.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.CookieBase64 }, Ct);
        using var h = new SimHarness(sim, tweak: s => s with { DifyFetchRetryCount = 3 });
        sim.Faults.FailNext("/console/api/login", fault, times: 1);

        var failed = await CycleAsync(h.Source);

        failed.ShouldNotBeNull();
        sim.Counters.Requests("POST /console/api/login").ShouldBe(1);
        (await new DifyLoginGuard(h.Store, h.Time).ReadAsync(Ct)).ShouldBeNull();
        (await CycleAsync(h.Source)).ShouldBeNull();
        sim.Counters.Requests("POST /console/api/login").ShouldBe(2);
    }
}
