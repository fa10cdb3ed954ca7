using System.Text.Json.Nodes;

namespace Simulators.Dify;

/// <summary>
/// Knowledge bases and their pipelines (api/controllers/console/datasets/rag_pipeline/rag_pipeline_workflow.py):
/// the run list returns production and preview runs together, without <c>triggered_from</c>; preview
/// runs carry <c>version = "draft"</c>.
/// </summary>
internal static class PipelineEndpoints
{
    /// <summary><c>/datasets</c>: every Dify version has it (before 1.12 without pipelines).</summary>
    public static void MapDatasets(RouteGroupBuilder api)
    {
        api.MapGet("/datasets", (HttpContext ctx) =>
        {
            var (page, e1) = Query.Int(ctx, "page", 1, 1, 99999);
            var (limit, e2) = Query.Int(ctx, "limit", 20, 1, 100);
            if ((e1 ?? e2) is { } bad)
            {
                return bad;
            }

            var datasets = ConsoleAuth.Principal(ctx).Workspace.Datasets.OrderByDescending(d => d.CreatedAt).ThenBy(d => d.Id).ToList();
            return DifyResult.Json(Wire.Page(page, limit, datasets.Count, datasets.Skip((page - 1) * limit).Take(limit).Select(d => (JsonNode)new JsonObject
            {
                ["id"] = d.Id.ToString(),
                ["name"] = d.Name,
                ["description"] = string.Empty,
                ["permission"] = "only_me",
                ["data_source_type"] = d.Pipeline is null ? "upload_file" : null,
                ["indexing_technique"] = "high_quality",
                ["doc_form"] = "text_model",
                ["pipeline_id"] = d.Pipeline?.Id.ToString(),
                ["runtime_mode"] = d.RuntimeMode,
                ["is_published"] = d.Pipeline is not null,
                ["created_at"] = Wire.Ts(d.CreatedAt),
            })));
        });
    }

    /// <summary>The knowledge pipeline run endpoints (1.12+).</summary>
    public static void MapPipelines(RouteGroupBuilder api)
    {

        api.MapGet("/rag/pipelines/{pipelineId}/workflow-runs", (HttpContext ctx, string pipelineId) =>
        {
            if (Pipeline(ctx, pipelineId) is not { } pipeline)
            {
                return DifyResult.NotFound();
            }

            var (limit, e1) = Query.Int(ctx, "limit", 20, 1, 100);
            var (lastId, okLast) = Query.Uuid(Query.Str(ctx, "last_id"));
            if (e1 is not null)
            {
                return e1;
            }

            if (!okLast)
            {
                return DifyResult.InvalidParam("last_id: Input should be a valid UUID", "last_id");
            }

            var runs = pipeline.Runs.OrderByDescending(r => r.CreatedAt).ThenBy(r => r.Id).ToList();
            if (lastId is { } lid)
            {
                var last = runs.FirstOrDefault(r => r.Id == lid);
                if (last is null)
                {
                    return DifyResult.InvalidParam("Last workflow run not exists", "last_id");
                }

                runs = [.. runs.Where(r => r.CreatedAt < last.CreatedAt)];
            }

            return DifyResult.Json(new JsonObject
            {
                ["limit"] = limit,
                ["has_more"] = runs.Count > limit,
                ["data"] = new JsonArray([.. runs.Take(limit).Select(r => (JsonNode)Wire.RunListItem(r, withTriggeredFrom: false, advancedChat: false).Also(o =>
                    o["version"] = r.TriggeredFrom == "rag-pipeline-debugging" ? "draft" : r.Version))]),
            });
        });

        api.MapGet("/rag/pipelines/{pipelineId}/workflow-runs/{runId}/node-executions", (HttpContext ctx, string pipelineId, string runId) =>
        {
            if (Pipeline(ctx, pipelineId) is not { } pipeline || !Guid.TryParse(runId, out var id))
            {
                return DifyResult.NotFound();
            }

            var run = pipeline.Runs.FirstOrDefault(r => r.Id == id);
            var nodes = run is null ? [] : run.Nodes.OrderBy(n => n.Index).Select(n => (JsonNode)Wire.Node(run, n));
            return DifyResult.Json(new JsonObject { ["data"] = new JsonArray([.. nodes]) });
        });
    }

    private static SimApp? Pipeline(HttpContext ctx, string pipelineId)
        => Guid.TryParse(pipelineId, out var id)
            ? ConsoleAuth.Principal(ctx).Workspace.Datasets.Select(d => d.Pipeline).FirstOrDefault(p => p?.Id == id)
            : null;
}
