using System.Net;
using System.Text.Json;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Hosting;

/// <summary>The real executable as a daemon: health answers, next run logged, SIGTERM exits 0, stdout is JSON Lines.</summary>
public class DaemonProcessTests
{
    [Fact]
    public async Task Run_answers_health_logs_the_next_run_and_exits_0_on_SIGTERM()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(Path.Combine(dir.Path, "data"));
        env["CRON_SCHEDULE"] = "0 1 * * *";
        env["CRON_TIMEZONE"] = "Asia/Tokyo";
        using var daemon = ExporterProcess.Start(env, dir.Path, "run");

        (await daemon.WaitForOutputAsync("Next export cycle at", TimeSpan.FromSeconds(60))).ShouldBeTrue(daemon.Stdout + daemon.Stderr);
        (await daemon.WaitForOutputAsync("Health server listening", TimeSpan.FromSeconds(60))).ShouldBeTrue(daemon.Stdout + daemon.Stderr);
        var lines = JsonLogAssert.EveryLineHasExactlyFourFields(daemon.Stdout);
        var next = lines.Single(l => l.GetProperty("message").GetString()!.StartsWith("Next export cycle at", StringComparison.Ordinal)).GetProperty("context");
        next.GetProperty("nextRunUtc").GetString().ShouldEndWith("T16:00:00Z");
        next.GetProperty("nextRunLocal").GetString().ShouldEndWith("T01:00:00+09:00");
        next.GetProperty("timeZone").GetString().ShouldBe("Asia/Tokyo");
        lines.Single(l => l.GetProperty("message").GetString()!.StartsWith("Next export cycle at", StringComparison.Ordinal))
            .GetProperty("message").GetString()!.ShouldMatch(@"^Next export cycle at \d{4}-\d\d-\d\dT16:00:00Z \(\d{4}-\d\d-\d\dT01:00:00\+09:00 Asia/Tokyo\), schedule '0 1 \* \* \*'");
        var address = lines.Single(l => l.GetProperty("message").GetString()!.StartsWith("Health server listening", StringComparison.Ordinal))
            .GetProperty("context").GetProperty("address").GetString()!;

        using var client = new HttpClient();
        using var response = await client.GetAsync(new Uri(new Uri(address), "/health"), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        body.GetProperty("status").GetString().ShouldBe("ok");
        body.GetProperty("nextRunAt").GetDateTimeOffset().Hour.ShouldBe(16);

        var probe = ExporterProcess.Start(new Dictionary<string, string> { ["HEALTHCHECK_PORT"] = new Uri(address).Port.ToString(System.Globalization.CultureInfo.InvariantCulture) }, dir.Path, "health");
        (await probe.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(0, probe.Stderr);
        probe.Stdout.ShouldContain("\"status\":\"ok\"");
        probe.Dispose();

        daemon.Signal("TERM");
        (await daemon.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(0, daemon.Stdout + daemon.Stderr);
        var all = JsonLogAssert.EveryLineHasExactlyFourFields(daemon.Stdout);
        all.ShouldContain(l => l.GetProperty("message").GetString() == "Stopped (exit code 0)");
        all.ShouldNotContain(l => l.GetProperty("level").GetString() == "error");
        daemon.Stderr.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("0 0 1 6 *", "UTC")]
    [InlineData("0 0 29 2 *", "UTC")]
    [InlineData("30 2 8 3 *", "America/New_York")]
    public async Task A_schedule_months_or_years_away_keeps_the_daemon_running(string cron, string zone)
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(Path.Combine(dir.Path, "data"));
        env["CRON_SCHEDULE"] = cron;
        env["CRON_TIMEZONE"] = zone;
        env["HEALTHCHECK_ENABLED"] = "false";
        using var daemon = ExporterProcess.Start(env, dir.Path, "run");

        (await daemon.WaitForOutputAsync("Next export cycle at", TimeSpan.FromSeconds(60))).ShouldBeTrue(daemon.Stdout + daemon.Stderr);
        // The old scheduler crashed here: one Task.Delay for the whole wait (more than 49.7 days).
        await Task.Delay(TimeSpan.FromSeconds(2), TimeProvider.System, TestContext.Current.CancellationToken);
        daemon.Process.HasExited.ShouldBeFalse(daemon.Stdout + daemon.Stderr);

        daemon.Signal("TERM");
        (await daemon.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(0, daemon.Stdout + daemon.Stderr);
        daemon.Stderr.ShouldBeEmpty();
        JsonLogAssert.EveryLineHasExactlyFourFields(daemon.Stdout).ShouldNotContain(l => l.GetProperty("level").GetString() == "error");
    }

    [Fact]
    public async Task The_health_command_exits_1_when_nothing_answers()
    {
        using var dir = new TempDir();
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var cli = new CapturedEnvironment(new Dictionary<string, string> { ["HEALTHCHECK_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) }, dir.Path);

        (await Task.Run(() => cli.Run("health", "--timeout", "5"), TestContext.Current.CancellationToken)).ShouldBe(1);
        cli.Error.ToString().ShouldContain("unhealthy");
    }
}
