namespace DifyUsageExporter.Dify.Database;

/// <summary>One column the database source reads, with the Dify versions that have it.</summary>
/// <param name="Optional">True when its absence only means a feature this Dify does not have (no pipelines before 1.9).</param>
internal sealed record SchemaColumn(string Table, string Column, string Versions, bool Optional = false);

/// <summary>
/// The subset of Dify's PostgreSQL schema the database source reads (docs/database-source.md). Taken from
/// Dify's models and migrations in <c>langgenius/dify</c>:
/// <list type="bullet">
/// <item><c>api/models/account.py</c>: <c>tenants</c>, <c>tenant_account_joins</c> (<c>role = 'owner'</c>), <c>accounts.timezone</c>;</item>
/// <item><c>api/models/model.py</c>: <c>apps</c>, <c>app_model_configs</c> (<c>model</c>, <c>agent_mode</c> as JSON text),
/// <c>conversations</c>, <c>messages</c> (<c>message_metadata</c> JSON text, <c>invoke_from</c>);</item>
/// <item><c>api/models/workflow.py</c> and <c>api/migrations/versions/b289e2408ee2_add_workflow.py</c> (2024-02-19,
/// Dify 0.6.0): <c>workflow_runs</c>, <c>workflow_node_executions</c> (<c>process_data</c>, <c>outputs</c>,
/// <c>execution_metadata</c> as JSON text), <c>messages.workflow_run_id</c>;</item>
/// <item><c>api/migrations/versions/2025_05_15_1558-b35c3db83d09_add_pipeline_info.py</c> (knowledge pipelines,
/// Dify 1.9.0): <c>datasets.runtime_mode</c>, <c>datasets.pipeline_id</c>.</item>
/// </list>
/// Timestamps are <c>timestamp without time zone</c> holding UTC (Dify writes <c>naive_utc_now()</c>).
/// </summary>
internal static class DifySchema
{
    private const string Since0 = "every Dify version (0.x and later)";
    private const string Since06 = "Dify 0.6.0 and later (migration b289e2408ee2_add_workflow, 2024-02)";

    public static readonly IReadOnlyList<SchemaColumn> Columns =
    [
        new("tenants", "id", Since0),
        new("tenants", "name", Since0),
        new("tenant_account_joins", "tenant_id", Since0),
        new("tenant_account_joins", "account_id", Since0),
        new("tenant_account_joins", "role", Since0),
        new("accounts", "id", Since0),
        new("accounts", "timezone", Since0),
        new("apps", "id", Since0),
        new("apps", "tenant_id", Since0),
        new("apps", "name", Since0),
        new("apps", "mode", Since0),
        new("apps", "status", Since0),
        new("apps", "app_model_config_id", Since0),
        new("app_model_configs", "id", Since0),
        new("app_model_configs", "model", Since0),
        new("app_model_configs", "agent_mode", Since0),
        new("conversations", "id", Since0),
        new("conversations", "invoke_from", "Dify 0.3.x and later (conversations.invoke_from)"),
        new("conversations", "from_end_user_id", Since0),
        new("conversations", "from_account_id", Since0),
        new("messages", "id", Since0),
        new("messages", "app_id", Since0),
        new("messages", "conversation_id", Since0),
        new("messages", "created_at", Since0),
        new("messages", "message_tokens", Since0),
        new("messages", "answer_tokens", Since0),
        new("messages", "total_price", Since0),
        new("messages", "currency", Since0),
        new("messages", "message_metadata", Since0),
        new("messages", "from_end_user_id", Since0),
        new("messages", "from_account_id", Since0),
        new("messages", "invoke_from", "Dify 0.3.x and later (messages.invoke_from)"),
        new("messages", "status", "Dify 0.5.x and later (messages.status)"),
        new("messages", "workflow_run_id", Since06),
        new("workflow_runs", "id", Since06),
        new("workflow_runs", "tenant_id", Since06),
        new("workflow_runs", "app_id", Since06),
        new("workflow_runs", "workflow_id", Since06),
        new("workflow_runs", "triggered_from", Since06),
        new("workflow_runs", "status", Since06),
        new("workflow_runs", "total_tokens", Since06),
        new("workflow_runs", "created_by_role", Since06),
        new("workflow_runs", "created_by", Since06),
        new("workflow_runs", "created_at", Since06),
        new("workflow_runs", "finished_at", Since06),
        new("workflow_node_executions", "id", Since06),
        new("workflow_node_executions", "tenant_id", Since06),
        new("workflow_node_executions", "app_id", Since06),
        new("workflow_node_executions", "workflow_id", Since06),
        new("workflow_node_executions", "triggered_from", Since06),
        new("workflow_node_executions", "workflow_run_id", Since06),
        new("workflow_node_executions", "index", Since06),
        new("workflow_node_executions", "node_id", Since06),
        new("workflow_node_executions", "node_type", Since06),
        new("workflow_node_executions", "process_data", Since06),
        new("workflow_node_executions", "outputs", Since06),
        new("workflow_node_executions", "execution_metadata", Since06),
        new("datasets", "id", Since0),
        new("datasets", "tenant_id", Since0),
        new("datasets", "name", Since0),
        new("datasets", "runtime_mode", "Dify 1.9.0 and later (knowledge pipelines; migration b35c3db83d09_add_pipeline_info)", Optional: true),
        new("datasets", "pipeline_id", "Dify 1.9.0 and later (knowledge pipelines; migration b35c3db83d09_add_pipeline_info)", Optional: true),
    ];

    /// <summary>The tables read (each needs <c>GRANT SELECT</c>).</summary>
    public static IReadOnlyList<string> Tables { get; } = Columns.Select(c => c.Table).Distinct().ToList();

    /// <summary>The statement that creates the read-only role (docs/database-source.md).</summary>
    public static string GrantStatement(string role) =>
        $"GRANT SELECT ON {string.Join(", ", Tables)} TO {role};";
}
