using System.Globalization;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Web;

/// <summary>
/// The dashboard in a real browser (Debian's chromium driven by Playwright; .ci/run installs it):
/// Basic-auth login, the chart, a day's totals against the ledger and the simulator's truth, 401
/// without credentials, screenshots on a desktop and a phone viewport.
/// </summary>
public sealed class DashboardBrowserTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private DashboardHarness H => fixture.Harness;

    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    [Fact]
    public async Task Logged_in_the_page_shows_the_chart_and_a_days_totals_equal_to_the_ledger_and_without_credentials_it_is_401()
    {
        File.Exists(ChromiumPath).ShouldBeTrue($"Chromium not found at {ChromiumPath}: install Debian's chromium (.ci/run does) or set CHROMIUM_PATH.");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // Chromium refuses to start as root with its sandbox; CI runs as root.
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });

        // Without credentials (and with a wrong password) the server answers 401 with a Basic
        // challenge: Chromium ends the navigation with its own auth error, after the 401 response.
        foreach (var credentials in new HttpCredentials?[] { null, new() { Username = DashboardHarness.User, Password = "not-the-password" } })
        {
            await using var refusedContext = await browser.NewContextAsync(new BrowserNewContextOptions { HttpCredentials = credentials });
            var page = await refusedContext.NewPageAsync();
            page.SetDefaultTimeout(30_000);
            var responses = new List<IResponse>();
            page.Response += (_, r) => responses.Add(r);
            try
            {
                // With wrong credentials Chromium shows the 401 page; without any it may abort instead.
                (await page.GotoAsync(H.Address + "?from=2026-03-01")).ShouldNotBeNull().Status.ShouldBe(401);
                (await page.ContentAsync()).ShouldNotContain("tokens-chart");
            }
            catch (PlaywrightException ex) when (ex.Message.Contains("ERR_INVALID_AUTH_CREDENTIALS", StringComparison.Ordinal))
            {
                // Chromium's own auth error page, after the server's 401 (checked below).
            }

            responses.ShouldNotBeEmpty();
            responses.ShouldAllBe(r => r.Status == 401);
            var refused = responses[^1];
            (await refused.HeaderValueAsync("www-authenticate")).ShouldNotBeNull().ShouldStartWith("Basic realm=");
            var open = await refusedContext.NewPageAsync();
            (await open.GotoAsync(new Uri(H.Address, "/health").ToString())).ShouldNotBeNull().Status.ShouldBe(200);
        }

        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = DashboardHarness.User, Password = DashboardHarness.Password },
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        var desktop = await context.NewPageAsync();
        desktop.SetDefaultTimeout(30_000);
        (await desktop.GotoAsync(H.Address.ToString())).ShouldNotBeNull().Status.ShouldBe(200);
        (await desktop.Locator("svg#tokens-chart").CountAsync()).ShouldBe(1);
        (await desktop.Locator("svg#tokens-chart g.bar").CountAsync()).ShouldBe(30, "default range: the last 30 days");

        // Choose the simulator's days with the form, as a person would.
        await desktop.FillAsync("input[name=from]", Day(DashboardHarness.From));
        await desktop.FillAsync("input[name=to]", Day(DashboardHarness.To));
        await desktop.ClickAsync("button[type=submit]");
        await desktop.WaitForURLAsync(url => url.Contains("from=" + Day(DashboardHarness.From), StringComparison.Ordinal));
        var days = DashboardHarness.To.DayNumber - DashboardHarness.From.DayNumber + 1;
        (await desktop.Locator("svg#tokens-chart g.bar").CountAsync()).ShouldBe(days);
        (await desktop.Locator("svg#cost-chart g.bar").CountAsync()).ShouldBe(days);

        // The busiest day of the simulator's ground truth, in the account's zone (the usage zone).
        var zone = H.Dify.AccountZone;
        var known = Enumerable.Range(0, days).Select(DashboardHarness.From.AddDays)
            .OrderByDescending(d => H.Dify.Truth.Totals(zone, d, d).TotalTokens).First();
        var truth = H.Dify.Truth.Totals(zone, known, known);
        var ledger = H.LedgerDay(known);
        ledger.Tokens.ShouldBe(truth.TotalTokens);
        ledger.Cost.ShouldBe(Math.Round(truth.Cost, 7, MidpointRounding.AwayFromZero));
        truth.TotalTokens.ShouldBeGreaterThan(0);

        var row = desktop.Locator($"#days tr[data-day=\"{Day(known)}\"]");
        Number(await row.Locator("td.tokens").InnerTextAsync()).ShouldBe(ledger.Tokens);
        Number(await row.Locator("td.requests").InnerTextAsync()).ShouldBe(ledger.Requests);
        Money(await row.Locator("td.cost").InnerTextAsync()).ShouldBe(ledger.Cost);
        (await desktop.Locator($"svg#tokens-chart g.bar[data-day=\"{Day(known)}\"] title").TextContentAsync()).ShouldNotBeNull()
            .ShouldStartWith($"{Day(known)}: {ledger.Tokens.ToString("N0", CultureInfo.InvariantCulture)} tokens");
        var all = H.Dify.Truth.Totals(zone, DashboardHarness.From, DashboardHarness.To);
        Number(await desktop.InnerTextAsync("#total-tokens")).ShouldBe(all.TotalTokens);

        // The cycle that filled the ledger is listed with its outcome; no secret is on the page.
        (await desktop.Locator("#cycles tbody tr").First.InnerTextAsync()).ShouldContain("success");
        var html = await desktop.ContentAsync();
        foreach (var secret in new[] { DashboardHarness.Password, DashboardHarness.MeterToken, H.Dify.Options.Password })
        {
            html.ShouldNotContain(secret);
        }

        await desktop.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("dashboard-desktop.png"), FullPage = true });

        await using var phoneContext = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = DashboardHarness.User, Password = DashboardHarness.Password },
            ViewportSize = new ViewportSize { Width = 390, Height = 844 },
            DeviceScaleFactor = 2,
            IsMobile = true,
            BypassCSP = true,
        });
        var phone = await phoneContext.NewPageAsync();
        await phone.GotoAsync(new Uri(H.Address, $"/?from={Day(DashboardHarness.From)}&to={Day(DashboardHarness.To)}").ToString());
        // Readable on a phone: the page itself never scrolls sideways (wide tables scroll in their own box).
        (await phone.EvaluateAsync<int>("document.documentElement.scrollWidth")).ShouldBeLessThanOrEqualTo(390);
        await phone.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("dashboard-phone.png") });
    }

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static long Number(string text) => long.Parse(text.Replace(",", string.Empty, StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);

    private static decimal Money(string text) => decimal.Parse(text.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture);

    private static string Screenshot(string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        TestContext.Current.SendDiagnosticMessage($"screenshot: {path}");
        return path;
    }
}
