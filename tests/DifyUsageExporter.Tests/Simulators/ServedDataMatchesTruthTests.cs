using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Simulators;

/// <summary>
/// Reads a generated workspace back through the served JSON, by the rules of usage-semantics.md §1,
/// and checks it equals the truth computed from the model: the wire and the truth agree.
/// </summary>
public sealed class ServedDataMatchesTruthTests
{
    private sealed record Ev(string Id, string User, long At, string Provider, string Model, long In, long Out, decimal Cost);

    [Theory]
    [InlineData(DifyAuthMode.Legacy, false, false)]
    [InlineData(DifyAuthMode.CookieBase64, true, false)]
    [InlineData(DifyAuthMode.Cookie, false, true)]
    public async Task Every_event_read_over_http_equals_the_truth(DifyAuthMode mode, bool secure, bool compact)
    {
        var ws = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 5, ConversationsPerApp = 4, MaxMessagesPerConversation = 5, RunsPerWorkflowApp = 8, CompactNodes = compact });
        await using var sim = await SimSession.StartAsync(new DifySimulatorOptions { AuthMode = mode, IsSecure = secure, Workspace = ws });
        using var s = new SimSession(sim);
        (await s.LoginAsync()).Dispose();

        var served = await ReadAllAsync(s);
        var expected = sim.Truth.Events
            .Select(e => new Ev(e.EventId, e.UserId, e.OccurredAt.ToUnixTimeSeconds(), e.Provider, e.Model, e.InputTokens, e.OutputTokens, e.Cost))
            .OrderBy(e => e.Id, StringComparer.Ordinal).ToList();
        served.OrderBy(e => e.Id, StringComparer.Ordinal).ToList().ShouldBe(expected);
        expected.Count.ShouldBeGreaterThan(50);
    }

    [Fact]
    public void A_compact_workspace_builds_the_same_nodes_on_every_read_and_holds_none()
    {
        var ws = WorkspaceGenerator.Generate(new GeneratorOptions { Seed = 9, CompactNodes = true, CurrentDifyKinds = true });
        var runs = ws.Apps.SelectMany(a => a.Runs).Concat(ws.Datasets.Select(d => d.Pipeline).OfType<SimApp>().SelectMany(p => p.Runs)).ToList();
        runs.Count.ShouldBeGreaterThan(20);
        runs.ShouldAllBe(r => r.NodeSource != null);
        static string Shape(SimWorkflowRun r) => string.Join(";", r.Nodes.Select(n =>
            $"{n.Id}|{n.NodeId}|{n.Index}|{n.NodeType}|{n.Shape}|{n.Model?.Model}|{n.Usage?.PromptTokens}|{n.Usage?.CompletionTokens}|{n.Usage?.TotalPrice}|{n.ParentContainerNodeId}"));
        var first = runs.Select(Shape).ToList();
        // Reads from many threads at once (the server does) give the same nodes again.
        var again = runs.AsParallel().Select(Shape).ToList();
        again.ShouldBe(first);
        first.ShouldAllBe(s => s.Length > 0);
        // Node ids are unique across the workspace, as with held nodes.
        var ids = runs.SelectMany(r => r.Nodes.Select(n => n.Id)).ToList();
        ids.Distinct().Count().ShouldBe(ids.Count);
        // The advanced-chat message usage is the sum of its run's leaf nodes, read back.
        foreach (var app in ws.Apps.Where(a => a.Mode == "advanced-chat"))
        {
            var byRun = app.Runs.ToDictionary(r => r.Id);
            foreach (var m in app.Conversations.SelectMany(c => c.Messages).Where(m => m.WorkflowRunId is not null && m.Usage is not null && m.Status == "normal"))
            {
                var leaves = byRun[m.WorkflowRunId!.Value].Nodes.Where(n => n.Shape is SimNodeUsageShape.ProcessData or SimNodeUsageShape.OutputsOnly or SimNodeUsageShape.MetadataOnly && n.Usage is not null).ToList();
                if (leaves.Count > 0)
                {
                    m.Usage!.PromptTokens.ShouldBe(leaves.Sum(n => n.Usage!.PromptTokens));
                }
            }
        }
    }

    private static async Task<List<Ev>> ReadAllAsync(SimSession s)
    {
        var events = new List<Ev>();
        foreach (var app in await PagesAsync(s, "apps?limit=100"))
        {
            var id = app["id"]!.GetValue<string>();
            var detail = await s.GetOkAsync($"apps/{id}");
            var model = detail["model_config"]?["model"];
            var provider = Norm(model?["provider"]?.GetValue<string>(), provider: true);
            var modelName = Norm(model?["name"]?.GetValue<string>(), provider: false);
            switch (app["mode"]!.GetValue<string>())
            {
                case "chat" or "agent-chat":
                    foreach (var c in await PagesAsync(s, $"apps/{id}/chat-conversations?limit=100"))
                    {
                        foreach (var m in await MessagesAsync(s, id, c["id"]!.GetValue<string>()))
                        {
                            AddMessage(events, m, provider, modelName);
                        }
                    }

                    break;
                case "completion":
                    foreach (var c in await PagesAsync(s, $"apps/{id}/completion-conversations?limit=100"))
                    {
                        var d = await s.GetOkAsync($"apps/{id}/completion-conversations/{c["id"]}");
                        AddMessage(events, d["message"]!, provider, modelName);
                    }

                    break;
                case "advanced-chat":
                    foreach (var c in await PagesAsync(s, $"apps/{id}/chat-conversations?limit=100"))
                    {
                        foreach (var m in await MessagesAsync(s, id, c["id"]!.GetValue<string>()))
                        {
                            var user = (m["from_end_user_id"] ?? m["from_account_id"])!.GetValue<string>();
                            var at = m["created_at"]!.GetValue<long>();
                            var before = events.Count;
                            if (m["workflow_run_id"] is { } run)
                            {
                                await AddNodesAsync(s, events, id, run.GetValue<string>(), user, at);
                            }

                            if (events.Count == before)
                            {
                                AddMessage(events, m, "unknown", "unknown");
                            }
                        }
                    }

                    break;
                case "workflow":
                    foreach (var log in await PagesAsync(s, $"apps/{id}/workflow-app-logs?limit=100"))
                    {
                        var user = (log["created_by_end_user"]?["id"] ?? log["created_by_account"]!["id"])!.GetValue<string>();
                        var run = log["workflow_run"]!;
                        await AddNodesAsync(s, events, id, run["id"]!.GetValue<string>(), user, run["created_at"]!.GetValue<long>());
                    }

                    break;
                default:
                    break;
            }
        }

        return events;
    }

    private static async Task<List<JsonNode>> PagesAsync(SimSession s, string path)
    {
        var all = new List<JsonNode>();
        for (var page = 1; ; page++)
        {
            var body = await s.GetOkAsync($"{path}&page={page}");
            all.AddRange(body["data"]!.AsArray().Select(x => x!));
            if (!body["has_more"]!.GetValue<bool>())
            {
                return all;
            }
        }
    }

    private static async Task<List<JsonNode>> MessagesAsync(SimSession s, string app, string conversation)
    {
        var all = new List<JsonNode>();
        string? first = null;
        while (true)
        {
            var body = await s.GetOkAsync($"apps/{app}/chat-messages?conversation_id={conversation}&limit=2" + (first is null ? string.Empty : "&first_id=" + first));
            var data = body["data"]!.AsArray().Select(x => x!).ToList();
            all.InsertRange(0, data);
            if (!body["has_more"]!.GetValue<bool>())
            {
                return all;
            }

            first = data[0]["id"]!.GetValue<string>();
        }
    }

    private static void AddMessage(List<Ev> events, JsonNode m, string provider, string model)
    {
        var user = (m["from_end_user_id"] ?? m["from_account_id"])!.GetValue<string>();
        var u = m["metadata"]?["usage"];
        var (i, o, c) = u is null
            ? (m["message_tokens"]!.GetValue<long>(), m["answer_tokens"]!.GetValue<long>(), 0m)
            : (u["prompt_tokens"]!.GetValue<long>(), u["completion_tokens"]!.GetValue<long>(), Price(u["total_price"]));
        Add(events, new Ev(m["id"]!.GetValue<string>(), user, m["created_at"]!.GetValue<long>(), provider, model, i, o, c));
    }

    private static async Task AddNodesAsync(SimSession s, List<Ev> events, string app, string run, string user, long at)
    {
        var nodes = await s.GetOkAsync($"apps/{app}/workflow-runs/{run}/node-executions");
        foreach (var n in nodes["data"]!.AsArray().Select(x => x!))
        {
            var type = n["node_type"]!.GetValue<string>();
            if (type is "iteration" or "loop")
            {
                continue;
            }

            var id = n["id"]!.GetValue<string>();
            if (n["process_data"]?["usage"] is { } pu)
            {
                var pd = n["process_data"]!;
                Add(events, new Ev(id, user, at, Norm(pd["model_provider"]?.GetValue<string>(), true), Norm(pd["model_name"]?.GetValue<string>(), false),
                    pu["prompt_tokens"]!.GetValue<long>(), pu["completion_tokens"]!.GetValue<long>(), Price(pu["total_price"])));
            }
            else if (n["outputs"]?["usage"] is { } ou)
            {
                Add(events, new Ev(id, user, at, "unknown", "unknown", ou["prompt_tokens"]!.GetValue<long>(), ou["completion_tokens"]!.GetValue<long>(), Price(ou["total_price"])));
            }
            else if (n["execution_metadata"]?["total_tokens"] is { } tt && tt.GetValue<long>() > 0)
            {
                Add(events, new Ev(id, user, at, "unknown", "unknown", tt.GetValue<long>(), 0, Price(n["execution_metadata"]!["total_price"])));
            }
        }
    }

    private static void Add(List<Ev> events, Ev e)
    {
        if (e.In != 0 || e.Out != 0 || e.Cost != 0)
        {
            events.Add(e);
        }
    }

    private static decimal Price(JsonNode? p) => p is null ? 0m
        : p.GetValueKind() == JsonValueKind.String ? decimal.Parse(p.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture)
        : p.GetValue<decimal>();

    private static string Norm(string? raw, bool provider)
    {
        var v = (raw ?? string.Empty).Trim().ToLowerInvariant();
        if (provider && v.Count(ch => ch == '/') == 2)
        {
            v = v[(v.LastIndexOf('/') + 1)..];
        }

        return v.Length == 0 ? "unknown" : v;
    }
}
