using System.Globalization;
using System.Text.Json.Nodes;

namespace Simulators.Dify;

/// <summary>
/// Simulator-only endpoints under <c>/_sim</c> (no auth, not counted as requests served), for
/// benchmarks: <c>GET /_sim/stats</c> (requests served, per path, and the request lower bound of
/// the workspace), <c>POST /_sim/reset</c> (zero the counters between runs), <c>GET /_sim/truth</c>
/// (the expected totals per day, provider and model in the account zone), <c>GET /_sim/requests</c>
/// (with <c>--record-requests</c>: every GET's path and query since the last reset, one per line).
/// </summary>
internal static class SimStatsEndpoints
{
    public const string Prefix = "/_sim";

    public static void Map(WebApplication app, DifySimulator sim)
    {
        app.MapGet(Prefix + "/stats", () =>
        {
            var bound = sim.LowerBound;
            var (span, meanInFlight, atOrAbove16) = sim.Counters.Timeline();
            var byPath = new JsonObject();
            foreach (var (path, count) in sim.Counters.ByPath.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                byPath[path] = count;
            }

            return DifyResult.Json(new JsonObject
            {
                ["requests_served"] = sim.Counters.TotalRequests,
                ["max_concurrent_requests"] = sim.Counters.MaxConcurrentRequests,
                // Time with at least one request in flight (first start to last end, gaps with none left
                // out), the mean number in flight over it, and the time at 16 or more.
                ["busy_seconds"] = Math.Round(span, 3),
                ["mean_in_flight"] = Math.Round(meanInFlight, 2),
                ["seconds_at_16_or_more"] = Math.Round(atOrAbove16, 3),
                ["events"] = sim.Truth.Count,
                ["lower_bound"] = bound.Total,
                ["lower_bound_detail"] = new JsonObject
                {
                    ["auth"] = bound.Auth,
                    ["profile"] = bound.Profile,
                    ["app_pages"] = bound.AppPages,
                    ["conversation_pages"] = bound.ConversationPages,
                    ["message_pages"] = bound.MessagePages,
                    ["completion_details"] = bound.CompletionDetails,
                    ["app_log_pages"] = bound.AppLogPages,
                    ["node_execution_calls"] = bound.NodeExecutionCalls,
                },
                ["by_path"] = byPath,
            });
        });

        app.MapGet(Prefix + "/requests", () => sim.Options.RecordRequests
            ? Results.Text(string.Join('\n', sim.Counters.Recorded) + "\n", "text/plain")
            : Results.Text("start the simulator with --record-requests (DifySimulatorOptions.RecordRequests) to record requests\n", "text/plain", statusCode: 409));

        app.MapPost(Prefix + "/reset", () =>
        {
            sim.Counters.Reset();
            return DifyResult.Json(new JsonObject { ["result"] = "success" });
        });

        app.MapGet(Prefix + "/truth", () =>
        {
            var rows = new JsonArray();
            if (sim.Truth.DateRange(sim.AccountZone) is { } range)
            {
                foreach (var r in sim.Truth.ByDayProviderModel(sim.AccountZone, range.First, range.Last))
                {
                    rows.Add(new JsonObject
                    {
                        ["usage_date"] = r.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                        ["provider"] = r.Provider,
                        ["model"] = r.Model,
                        ["input_tokens"] = r.InputTokens,
                        ["output_tokens"] = r.OutputTokens,
                        ["request_count"] = r.RequestCount,
                        ["cost"] = Math.Round(r.Cost, 7, MidpointRounding.AwayFromZero).ToString("0.0000000", CultureInfo.InvariantCulture),
                    });
                }
            }

            return DifyResult.Json(new JsonObject { ["time_zone"] = sim.Options.AccountTimeZone, ["rows"] = rows });
        });
    }
}
