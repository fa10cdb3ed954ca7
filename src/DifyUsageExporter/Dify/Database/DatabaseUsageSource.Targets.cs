using System.Text.Json;

namespace DifyUsageExporter.Dify.Database;

public sealed partial class DatabaseUsageSource
{
    /// <summary>
    /// The workspace's apps (<c>apps.status = 'normal'</c>, as the console's app list) and, from Dify 1.9 on,
    /// its knowledge pipelines (<c>datasets.runtime_mode = 'rag_pipeline'</c>: app id = pipeline id, name = the
    /// knowledge base's). Modes as the console source: <c>channel</c> carries no usage, unknown modes are
    /// skipped with a warning. A <c>chat</c> app whose config is in agent mode is <c>agent-chat</c>
    /// (Dify's <c>App.mode_compatible_with_agent</c>, api/models/model.py).
    /// </summary>
    private async Task<(List<DatabaseTarget> Apps, List<string> Unknown, List<(DatabaseTarget Target, string Reason)> BadConfigs)> ListTargetsAsync(DifyTenant tenant, bool pipelines, CancellationToken cancellationToken)
    {
        var apps = new List<DatabaseTarget>();
        var unknown = new List<string>();
        var badConfigs = new List<(DatabaseTarget, string)>();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await database.QueryAsync(connection, """
            SELECT a.id::text, a.name, a.mode, c.id::text, c.model::text, c.agent_mode::text
            FROM apps a LEFT JOIN app_model_configs c ON c.id = a.app_model_config_id
            WHERE a.tenant_id = @tenant::uuid AND a.status = 'normal'
            ORDER BY a.id
            """, p => p.AddWithValue("tenant", tenant.Id), r =>
        {
            var (id, name, mode) = (r.GetString(0), r.IsDBNull(1) || r.GetString(1).Length == 0 ? r.GetString(0) : r.GetString(1), r.GetString(2));
            if (DifyUsageSource.NoUsageModes.Contains(mode))
            {
                return;
            }

            if (!DifyUsageSource.KnownModes.Contains(mode))
            {
                unknown.Add($"{name} ({id}): {mode}");
                DifyMetrics.SkippedApps.Add(1);
                DifyLog.UnknownMode(logger, name, id, mode);
                return;
            }

            string? provider = null, model = null, problem = null;
            try
            {
                if (mode == "chat" && IsAgentMode(r.IsDBNull(5) ? null : r.GetString(5)))
                {
                    mode = "agent-chat";
                }

                if (mode is "chat" or "agent-chat" or "completion")
                {
                    (provider, model) = ConfiguredModel(r.IsDBNull(4) ? null : r.GetString(4));
                }
            }
            catch (JsonException ex)
            {
                problem = $"app_model_configs row {(r.IsDBNull(3) ? "?" : r.GetString(3))} of app {id}: its JSON cannot be read ({ex.Message})";
            }

            var target = new DatabaseTarget(new DifyAppInfo(id, name, mode, provider, model));
            apps.Add(target);
            if (problem is not null)
            {
                badConfigs.Add((target, problem));
            }
        }, cancellationToken).ConfigureAwait(false);

        if (pipelines)
        {
            await database.QueryAsync(connection, """
                SELECT d.pipeline_id::text, d.name, d.id::text FROM datasets d
                WHERE d.tenant_id = @tenant::uuid AND d.runtime_mode = 'rag_pipeline' AND d.pipeline_id IS NOT NULL
                ORDER BY d.pipeline_id
                """, p => p.AddWithValue("tenant", tenant.Id), r =>
            {
                var name = r.IsDBNull(1) || r.GetString(1).Length == 0 ? r.GetString(2) : r.GetString(1);
                apps.Add(new DatabaseTarget(new DifyAppInfo(r.GetString(0), name, DifyUsageSource.PipelineMode, null, null)));
            }, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (target, problem) in badConfigs)
        {
            DifyLog.AppFailed(logger, target.Info.Name, target.Info.Id, problem);
        }

        return (apps, unknown, badConfigs);
    }

    /// <summary><c>app_model_configs.agent_mode</c>: enabled with strategy function_call or react (Dify's <c>App.is_agent</c>).</summary>
    private static bool IsAgentMode(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return false;
        }

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        return root.ValueKind == JsonValueKind.Object
            && root.TryGetProperty("enabled", out var enabled) && enabled.ValueKind == JsonValueKind.True
            && DifyUsageMapper.ReadString(root, "strategy") is "function_call" or "react";
    }

    /// <summary><c>app_model_configs.model</c>: <c>{"provider": ..., "name": ...}</c> (the console's <c>model_config.model</c>).</summary>
    private static (string? Provider, string? Model) ConfiguredModel(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return (null, null);
        }

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        return root.ValueKind != JsonValueKind.Object
            ? (null, null)
            : (DifyUsageMapper.ReadString(root, "provider"), DifyUsageMapper.ReadString(root, "name") ?? DifyUsageMapper.ReadString(root, "model"));
    }
}
