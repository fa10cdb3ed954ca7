using System.Net;
using System.Text.Json.Nodes;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Simulators;

public sealed class DifySimulatorFilterTests
{
    private static readonly SimActor User = SimActor.Of(new SimEndUser(Guid.NewGuid(), "service_api", false, "u1"));

    private static SimConversation Conv(string name, params DateTimeOffset[] at)
        => new() { Name = name, From = User, Messages = [.. at.Select(t => new SimMessage { CreatedAt = t })] };

    private static DateTimeOffset Utc(int day, int hour, int minute, int second = 0) => new(2026, 3, day, hour, minute, second, TimeSpan.Zero);

    private static List<string> Names(JsonNode page) => [.. page["data"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Conversation_start_and_end_are_read_in_the_account_zone_across_midnight_and_dst()
    {
        // America/New_York: 2026-03-08 00:00 EST = 05:00Z; clocks jump at 02:00 EST = 07:00Z, so 03:00 EDT = 07:00Z.
        var app = new SimApp
        {
            Mode = "chat",
            Conversations =
            [
                Conv("before-midnight", Utc(8, 4, 59, 59)),
                Conv("at-midnight", Utc(8, 5, 0, 0)),
                Conv("in-last-minute", Utc(8, 5, 0, 59)),
                Conv("before-3am-edt", Utc(8, 6, 59, 59)),
                Conv("at-3am-edt", Utc(8, 7, 0, 0)),
                Conv("started-earlier", Utc(7, 12, 0, 0), Utc(8, 7, 30, 0)),
            ],
        };
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Legacy, AccountTimeZone = "America/New_York", Workspace = new SimWorkspace { Apps = [app] } });
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();
        var path = $"apps/{app.Id}/chat-conversations?limit=100";

        Names(await s.GetOkAsync(path + "&start=2026-03-08%2000:00")).ShouldBe(["at-3am-edt", "at-midnight", "before-3am-edt", "in-last-minute", "started-earlier"]);
        Names(await s.GetOkAsync(path + "&start=2026-03-08%2003:00")).ShouldBe(["at-3am-edt", "started-earlier"]);
        Names(await s.GetOkAsync(path + "&start=2026-03-08%2003:00&sort_by=created_at")).ShouldBe(["at-3am-edt"]);
        Names(await s.GetOkAsync(path + "&end=2026-03-08%2000:00")).ShouldBe(["at-midnight", "before-midnight", "in-last-minute"]);
        var (status, body) = await s.GetAsync(path + "&start=2026-03-08T00:00");
        status.ShouldBe(HttpStatusCode.BadRequest);
        body!["code"]!.GetValue<string>().ShouldBe("invalid_param");
    }

    [Fact]
    public async Task Token_cost_statistics_bucket_by_local_date_skip_debugger_and_empty_days()
    {
        var m = ModelCatalog.OpenAiMini;
        var app = new SimApp
        {
            Mode = "chat",
            Conversations =
            [
                new SimConversation { From = User, Messages = [new SimMessage { CreatedAt = Utc(7, 14, 59, 59), MessageTokens = 100, AnswerTokens = 10, Usage = SimUsage.Priced(100, 10, m) }] },
                new SimConversation { From = User, Messages = [new SimMessage { CreatedAt = Utc(7, 15, 0, 0), MessageTokens = 200, AnswerTokens = 20, Usage = SimUsage.Priced(200, 20, m) }] },
                new SimConversation { From = User, Messages = [new SimMessage { CreatedAt = Utc(9, 15, 0, 0), MessageTokens = 1, AnswerTokens = 1, Usage = SimUsage.Priced(1, 1, m) }] },
                new SimConversation { From = SimActor.Of(new SimAccount(Guid.NewGuid(), "Dev", "d@example.com")), IsDebugger = true, Messages = [new SimMessage { CreatedAt = Utc(7, 16, 0, 0), MessageTokens = 999, AnswerTokens = 1 }] },
            ],
        };
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Legacy, Workspace = new SimWorkspace { Apps = [app] } });
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();

        var stats = await s.GetOkAsync($"apps/{app.Id}/statistics/token-costs?start=2026-03-07%2000:00&end=2026-03-11%2000:00");
        stats.ToJsonString().ShouldBe(
            "{\"data\":[" +
            "{\"date\":\"2026-03-07\",\"token_count\":110,\"total_price\":\"0.0000210\",\"currency\":\"USD\"}," +
            "{\"date\":\"2026-03-08\",\"token_count\":220,\"total_price\":\"0.0000420\",\"currency\":\"USD\"}," +
            "{\"date\":\"2026-03-10\",\"token_count\":2,\"total_price\":\"0.0000008\",\"currency\":\"USD\"}]}");
        // end is exclusive at the minute: 23:59 drops the message at 23:59:59 local.
        var exclusiveEnd = await s.GetOkAsync($"apps/{app.Id}/statistics/token-costs?start=2026-03-07%2000:00&end=2026-03-07%2023:59");
        exclusiveEnd["data"]!.AsArray().Count.ShouldBe(0);
        var nextMidnight = await s.GetOkAsync($"apps/{app.Id}/statistics/token-costs?start=2026-03-07%2000:00&end=2026-03-08%2000:00");
        nextMidnight["data"]!.AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task Faults_fail_the_next_requests_then_the_server_answers_normally()
    {
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { AuthMode = DifyAuthMode.Legacy });
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();
        sim.Faults.FailNext("/apps", DifyFaultKind.BadGatewayHtml);
        sim.Faults.FailNext("/apps", DifyFaultKind.TooManyRequests);
        sim.Faults.FailNext("/apps", DifyFaultKind.InternalServerError);
        using (var r = await s.SendAsync(s.Request(HttpMethod.Get, "apps")))
        {
            r.StatusCode.ShouldBe(HttpStatusCode.BadGateway);
            r.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
            r.Headers.GetValues("X-Version").ShouldNotBeEmpty();
        }

        using (var r = await s.SendAsync(s.Request(HttpMethod.Get, "apps")))
        {
            r.StatusCode.ShouldBe((HttpStatusCode)429);
            r.Headers.RetryAfter.ShouldBeNull();
        }

        var (status, body) = await s.GetAsync("apps");
        status.ShouldBe(HttpStatusCode.InternalServerError);
        body!["code"]!.GetValue<string>().ShouldBe("unknown");
        (await s.GetAsync("apps")).Status.ShouldBe(HttpStatusCode.OK);

        sim.Faults.FailNext("/account/profile", DifyFaultKind.DropConnection);
        await Should.ThrowAsync<HttpRequestException>(() => s.GetAsync("account/profile"));
        sim.Faults.DelayNext("/account/profile", TimeSpan.FromSeconds(30));
        using var quick = new HttpClient { BaseAddress = sim.BaseUrl, Timeout = TimeSpan.FromMilliseconds(300) };
        await Should.ThrowAsync<TaskCanceledException>(() => quick.GetAsync(new Uri("console/api/account/profile", UriKind.Relative), SimSession.Ct));
        sim.Faults.Pending.ShouldBe(0);
        sim.Counters.Requests("GET /console/api/apps").ShouldBe(4);
    }
}
