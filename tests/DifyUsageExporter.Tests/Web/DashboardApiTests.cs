using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Web;

/// <summary>GET /api/usage and /api/cycles against the simulator's ground truth; auth and bad input.</summary>
public sealed class DashboardApiTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private static readonly string Range = $"from={Day(DashboardHarness.From)}&to={Day(DashboardHarness.To)}";

    private DashboardHarness H => fixture.Harness;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Usage_by_day_equals_the_simulators_truth_per_day_in_the_account_time_zone()
    {
        var body = await GetJsonAsync($"/api/usage?{Range}&by=day");

        body.GetProperty("timeZone").GetString().ShouldBe("Asia/Tokyo");
        body.GetProperty("by").EnumerateArray().Select(b => b.GetString()).ShouldBe(["day"]);
        var rows = body.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("day").GetString()!);
        var zone = H.Dify.AccountZone;
        var expectedDays = 0;
        for (var day = DashboardHarness.From; day <= DashboardHarness.To; day = day.AddDays(1))
        {
            var truth = H.Dify.Truth.Totals(zone, day, day);
            if (truth.RequestCount == 0)
            {
                rows.ShouldNotContainKey(Day(day));
                continue;
            }

            expectedDays++;
            var row = rows[Day(day)];
            row.GetProperty("inputTokens").GetInt64().ShouldBe(truth.InputTokens, Day(day));
            row.GetProperty("outputTokens").GetInt64().ShouldBe(truth.OutputTokens, Day(day));
            row.GetProperty("totalTokens").GetInt64().ShouldBe(truth.TotalTokens, Day(day));
            row.GetProperty("requests").GetInt64().ShouldBe(truth.RequestCount, Day(day));
            row.GetProperty("cost").GetDecimal().ShouldBe(Math.Round(truth.Cost, 7, MidpointRounding.AwayFromZero), Day(day));
            row.GetProperty("currency").GetString().ShouldBe("USD");
            row.TryGetProperty("model", out _).ShouldBeFalse();
        }

        rows.Count.ShouldBe(expectedDays);
        var all = H.Dify.Truth.Totals(zone, DashboardHarness.From, DashboardHarness.To);
        var total = body.GetProperty("totals").EnumerateArray().ShouldHaveSingleItem();
        total.GetProperty("totalTokens").GetInt64().ShouldBe(all.TotalTokens);
        total.GetProperty("cost").GetDecimal().ShouldBe(Math.Round(all.Cost, 7, MidpointRounding.AwayFromZero));
    }

    [Fact]
    public async Task Usage_by_model_and_by_app_and_user_split_the_same_truth()
    {
        var zone = H.Dify.AccountZone;
        var byModel = (await GetJsonAsync($"/api/usage?{Range}&by=model")).GetProperty("rows").EnumerateArray().ToList();
        var truthModels = H.Dify.Truth.ByDayProviderModel(zone, DashboardHarness.From, DashboardHarness.To)
            .GroupBy(r => (r.Provider, r.Model))
            .ToDictionary(g => $"{g.Key.Provider}|{g.Key.Model}", g => (Tokens: g.Sum(r => r.InputTokens + r.OutputTokens), Requests: g.Sum(r => r.RequestCount)));
        byModel.Select(r => $"{r.GetProperty("provider").GetString()}|{r.GetProperty("model").GetString()}").Order(StringComparer.Ordinal)
            .ShouldBe(truthModels.Keys.Order(StringComparer.Ordinal));
        foreach (var row in byModel)
        {
            var key = $"{row.GetProperty("provider").GetString()}|{row.GetProperty("model").GetString()}";
            (row.GetProperty("totalTokens").GetInt64(), row.GetProperty("requests").GetInt64()).ShouldBe((truthModels[key].Tokens, (long)truthModels[key].Requests), key);
        }

        var byAppUser = (await GetJsonAsync($"/api/usage?{Range}&by=app,user")).GetProperty("rows").EnumerateArray().ToList();
        var truthPairs = H.Dify.Truth.EventsIn(zone, DashboardHarness.From, DashboardHarness.To)
            .GroupBy(e => $"{e.AppId}|{e.UserId}").ToDictionary(g => g.Key, g => g.Sum(e => e.InputTokens + e.OutputTokens));
        byAppUser.Count.ShouldBe(truthPairs.Count);
        foreach (var row in byAppUser)
        {
            row.TryGetProperty("day", out _).ShouldBeFalse();
            row.GetProperty("appName").GetString().ShouldNotBeNullOrEmpty();
            row.GetProperty("totalTokens").GetInt64().ShouldBe(truthPairs[$"{row.GetProperty("appId").GetString()}|{row.GetProperty("userId").GetString()}"]);
        }
    }

    [Fact]
    public async Task Cycles_lists_the_run_that_filled_the_ledger_with_outcome_and_duration()
    {
        var body = await GetJsonAsync("/api/cycles?limit=5");

        body.GetProperty("running").GetBoolean().ShouldBeFalse();
        var cycle = body.GetProperty("cycles").EnumerateArray().ShouldHaveSingleItem();
        cycle.GetProperty("trigger").GetString().ShouldBe("once");
        cycle.GetProperty("outcome").GetString().ShouldBe("success");
        var started = cycle.GetProperty("startedAt").GetDateTimeOffset();
        var finished = cycle.GetProperty("finishedAt").GetDateTimeOffset();
        cycle.GetProperty("durationSeconds").GetDouble().ShouldBe((finished - started).TotalSeconds, 0.001);
        cycle.GetProperty("summary").GetString()!.ShouldContain("records delivered");
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/api/usage")]
    [InlineData("/api/cycles")]
    public async Task Without_or_with_wrong_credentials_every_dashboard_route_is_401_with_a_basic_challenge(string path)
    {
        using var client = new HttpClient { BaseAddress = H.Address };
        using var anonymous = await client.GetAsync(path, Ct);
        anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        anonymous.Headers.WwwAuthenticate.ShouldHaveSingleItem().Scheme.ShouldBe("Basic");

        foreach (var (user, password) in new[] { (DashboardHarness.User, DashboardHarness.Password + "x"), ("admin", DashboardHarness.Password), (DashboardHarness.User, string.Empty) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
            using var wrong = await client.SendAsync(request, Ct);
            wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, $"{user}:{password}");
        }

        (await client.GetAsync("/health", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetAsync("/metrics", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        H.Log.ToString().ShouldNotContain(DashboardHarness.Password);
    }

    [Theory]
    [InlineData("/api/usage?from=2026-13-01", "from: '2026-13-01' is not a date")]
    [InlineData("/api/usage?to=03/01/2026", "to: '03/01/2026' is not a date")]
    [InlineData("/api/usage?from=2026-03-10&to=2026-03-01", "from (2026-03-10) is after to (2026-03-01)")]
    [InlineData("/api/usage?from=2020-01-01&to=2026-03-01", "at most 731 days")]
    [InlineData("/api/usage?by=day,tenant", "by: 'tenant' is not a dimension")]
    [InlineData("/api/usage?by=day,day", "by: 'day' is given twice")]
    [InlineData("/api/usage?by=", "by: '' is not a dimension")]
    [InlineData("/api/usage?form=2026-03-01", "Unknown query parameter 'form'")]
    [InlineData("/api/usage?from=2026-03-01&from=2026-03-02", "'from' is given 2 times")]
    [InlineData("/api/cycles?limit=0", "limit: '0' is not a whole number from 1 to 1000")]
    [InlineData("/api/cycles?limit=abc", "limit: 'abc'")]
    [InlineData("/api/cycles?since=2026-01-01", "Unknown query parameter 'since'")]
    public async Task Bad_query_parameters_are_400_naming_the_parameter_and_the_accepted_form(string path, string message)
    {
        using var client = Authenticated();
        using var response = await client.GetAsync(path, Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("error").GetString()!;
        error.ShouldContain(message);
        error.ShouldContain("Accepted");
    }

    [Fact]
    public async Task The_page_with_a_bad_date_is_400_with_the_message_and_still_renders_the_default_range()
    {
        using var client = Authenticated();
        using var response = await client.GetAsync("/?from=yesterday", Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        var html = await response.Content.ReadAsStringAsync(Ct);
        html.ShouldContain("from: &#39;yesterday&#39; is not a date");
        html.ShouldContain("id=\"tokens-chart\"");
        response.Headers.GetValues("Content-Security-Policy").ShouldHaveSingleItem().ShouldContain("default-src 'none'");
    }

    private HttpClient Authenticated()
    {
        var client = new HttpClient { BaseAddress = H.Address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{DashboardHarness.User}:{DashboardHarness.Password}")));
        return client;
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var client = Authenticated();
        using var response = await client.GetAsync(path, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
