using System.Net;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Simulators;

public sealed class DifySimulatorDataChangeTests
{
    [Fact]
    public async Task Data_added_after_start_is_served_and_counted_after_notify()
    {
        var user = SimActor.Of(new SimEndUser(Guid.NewGuid(), "service_api", false, "u"));
        var conv = new SimConversation { From = user, Messages = [new SimMessage { CreatedAt = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero), Usage = SimUsage.Priced(10, 1, ModelCatalog.OpenAiMini) }] };
        var app = new SimApp { Mode = "chat", Model = ModelCatalog.OpenAiMini, Conversations = [conv] };
        var flow = new SimApp { Mode = "workflow" };
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { Workspace = new SimWorkspace { Apps = [app, flow] } });
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();
        sim.Truth.Totals().RequestCount.ShouldBe(1);

        conv.Messages.Add(new SimMessage { CreatedAt = new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero), Usage = SimUsage.Priced(20, 2, ModelCatalog.OpenAiMini) });
        sim.NotifyDataChanged();
        (await s.GetOkAsync($"apps/{app.Id}/chat-messages?conversation_id={conv.Id}"))["data"]!.AsArray().Count.ShouldBe(2);
        sim.Truth.Totals().ShouldBe(new TruthTotals(30, 3, 2, 0.0000015m + 0.0000006m + 0.000003m + 0.0000012m));

        // The draft endpoint is exempt from CSRF; everything else is not.
        using var draft = await s.SendAsync(s.Request(HttpMethod.Get, $"apps/{flow.Id}/workflows/draft", csrf: false));
        draft.StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}

public sealed class DifySimulatorHookTests
{
    [Fact]
    public async Task Before_request_hook_can_expire_the_token_in_the_middle_of_a_run()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 10, 0, 0, 0, TimeSpan.Zero));
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { Clock = clock, AccessTokenTtl = TimeSpan.FromMinutes(30) });
        var calls = 0;
        sim.BeforeRequest = key =>
        {
            if (key == "GET /console/api/apps" && ++calls == 2)
            {
                clock.Advance(TimeSpan.FromMinutes(31));
            }
        };
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();
        (await s.GetAsync("apps")).Status.ShouldBe(HttpStatusCode.OK);
        var (status, body) = await s.GetAsync("apps");
        status.ShouldBe(HttpStatusCode.Unauthorized);
        body!["message"]!.GetValue<string>().ShouldBe("Token has expired.");
        sim.Counters.Unauthorized.ShouldBe(1);
    }
}
