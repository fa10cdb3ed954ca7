using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;

namespace Simulators.Dify;

/// <summary>
/// Writes a generated workspace into Dify's tables (the subset in dify-schema.sql, cited from Dify's models and
/// migrations), with the same JSON texts the console simulator serves, so the database source and the console
/// source read the same data. Binary COPY: a million events load in seconds.
/// </summary>
public static class DifyDatabaseWriter
{
    /// <summary>Dify's schema subset (dify-schema.sql next to the simulator).</summary>
    public static string SchemaSql => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Dify", "Database", "dify-schema.sql"));

    /// <summary>
    /// Creates the database named in <paramref name="connectionString"/> when it does not exist (connecting to the
    /// server's <c>postgres</c> database), so a benchmark can point the simulator at a fresh name on a throwaway server.
    /// </summary>
    public static async Task CreateDatabaseIfMissingAsync(string connectionString, CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var name = target.Database ?? throw new ArgumentException("The connection string names no Database.", nameof(connectionString));
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres" };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", name);
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Creates the tables and writes the workspace; <paramref name="ownerTimeZone"/> becomes the owner's accounts.timezone.</summary>
    public static async Task WriteAsync(string connectionString, SimWorkspace ws, SimAccount owner, string? ownerTimeZone, CancellationToken cancellationToken, bool createSchema = true)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        if (createSchema)
        {
            await using var ddl = new NpgsqlCommand(SchemaSql, connection);
            await ddl.ExecuteNonQueryAsync(cancellationToken);
        }

        await Exec(connection, "INSERT INTO tenants (id, name) VALUES (@id, @name)", cancellationToken, ("id", ws.Id), ("name", ws.Name));
        var accounts = ws.Accounts.Where(a => a.Id != owner.Id).Prepend(owner).ToList();
        foreach (var account in accounts)
        {
            await Exec(connection, "INSERT INTO accounts (id, name, email, timezone) VALUES (@id, @name, @email, @tz) ON CONFLICT (id) DO NOTHING", cancellationToken,
                ("id", account.Id), ("name", account.Name), ("email", account.Email), ("tz", account.Id == owner.Id ? (object?)ownerTimeZone ?? DBNull.Value : DBNull.Value));
            await Exec(connection, "INSERT INTO tenant_account_joins (id, tenant_id, account_id, role) VALUES (@id, @t, @a, @role)", cancellationToken,
                ("id", Guid.NewGuid()), ("t", ws.Id), ("a", account.Id), ("role", account.Id == owner.Id ? "owner" : "normal"));
        }

        await WriteAppsAsync(connection, ws, cancellationToken);
        await WriteConversationsAsync(connection, ws, cancellationToken);
        await WriteRunsAsync(connection, ws, cancellationToken);
        foreach (var dataset in ws.Datasets)
        {
            await Exec(connection, "INSERT INTO datasets (id, tenant_id, name, runtime_mode, pipeline_id) VALUES (@id, @t, @name, @mode, @p)", cancellationToken,
                ("id", dataset.Id), ("t", ws.Id), ("name", dataset.Name), ("mode", dataset.RuntimeMode), ("p", (object?)dataset.Pipeline?.Id ?? DBNull.Value));
        }
    }

    private static async Task WriteAppsAsync(NpgsqlConnection connection, SimWorkspace ws, CancellationToken cancellationToken)
    {
        foreach (var app in ws.Apps)
        {
            Guid? configId = null;
            if (app.Model is { } m && app.Mode is not ("workflow" or "advanced-chat" or "rag-pipeline"))
            {
                configId = Guid.NewGuid();
                var model = new JsonObject { ["provider"] = m.RawProvider, ["name"] = m.RawModel, ["mode"] = app.Mode == "completion" ? "completion" : "chat", ["completion_params"] = new JsonObject() };
                var agentMode = new JsonObject { ["enabled"] = app.AgentModeConfig, ["strategy"] = "function_call", ["tools"] = new JsonArray() };
                await Exec(connection, "INSERT INTO app_model_configs (id, app_id, model, agent_mode) VALUES (@id, @app, @model, @agent)", cancellationToken,
                    ("id", configId.Value), ("app", app.Id), ("model", model.ToJsonString()), ("agent", agentMode.ToJsonString()));
            }

            await Exec(connection, "INSERT INTO apps (id, tenant_id, name, mode, app_model_config_id, status, created_at) VALUES (@id, @t, @name, @mode, @cfg, @status, @at)", cancellationToken,
                ("id", app.Id), ("t", ws.Id), ("name", app.Name), ("mode", app.Mode), ("cfg", (object?)configId ?? DBNull.Value),
                ("status", app.Archived ? "archived" : "normal"), ("at", Naive(app.CreatedAt)));
        }
    }

    private static async Task WriteConversationsAsync(NpgsqlConnection connection, SimWorkspace ws, CancellationToken cancellationToken)
    {
        var conversations = ws.Apps.SelectMany(a => a.Conversations.Select(c => (App: a, Conversation: c))).ToList();
        await using (var copy = await connection.BeginBinaryImportAsync("COPY conversations (id, app_id, mode, name, invoke_from, from_source, from_end_user_id, from_account_id, created_at) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var (app, c) in conversations)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(c.Id, NpgsqlDbType.Uuid, cancellationToken);
                await copy.WriteAsync(app.Id, NpgsqlDbType.Uuid, cancellationToken);
                await copy.WriteAsync(app.Mode, NpgsqlDbType.Varchar, cancellationToken);
                await copy.WriteAsync(c.Name, NpgsqlDbType.Varchar, cancellationToken);
                await copy.WriteAsync(InvokeFrom(c), NpgsqlDbType.Varchar, cancellationToken);
                await copy.WriteAsync(c.FromSource, NpgsqlDbType.Varchar, cancellationToken);
                await WriteGuid(copy, c.From.EndUser?.Id, cancellationToken);
                await WriteGuid(copy, c.From.Account?.Id, cancellationToken);
                await copy.WriteAsync(Naive(c.CreatedAt), NpgsqlDbType.Timestamp, cancellationToken);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY messages (id, app_id, conversation_id, message_tokens, answer_tokens, total_price, currency, status, message_metadata, invoke_from, from_source, from_end_user_id, from_account_id, created_at, workflow_run_id) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var (app, c) in conversations)
            {
                foreach (var m in c.Messages)
                {
                    await copy.StartRowAsync(cancellationToken);
                    await copy.WriteAsync(m.Id, NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(app.Id, NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(c.Id, NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(m.MessageTokens, NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(m.AnswerTokens, NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(Math.Round(m.DbTotalPrice, 7, MidpointRounding.AwayFromZero), NpgsqlDbType.Numeric, cancellationToken);
                    await copy.WriteAsync(m.Usage?.Currency ?? "USD", NpgsqlDbType.Varchar, cancellationToken);
                    await copy.WriteAsync(m.Status, NpgsqlDbType.Varchar, cancellationToken);
                    await copy.WriteAsync(Wire.Message(c, m)["metadata"]!.ToJsonString(), NpgsqlDbType.Text, cancellationToken);
                    await copy.WriteAsync(InvokeFrom(c), NpgsqlDbType.Varchar, cancellationToken);
                    await copy.WriteAsync(c.FromSource, NpgsqlDbType.Varchar, cancellationToken);
                    await WriteGuid(copy, c.From.EndUser?.Id, cancellationToken);
                    await WriteGuid(copy, c.From.Account?.Id, cancellationToken);
                    await copy.WriteAsync(Naive(m.CreatedAt), NpgsqlDbType.Timestamp, cancellationToken);
                    await WriteGuid(copy, m.WorkflowRunId, cancellationToken);
                }
            }

            await copy.CompleteAsync(cancellationToken);
        }
    }

    private static async Task WriteRunsAsync(NpgsqlConnection connection, SimWorkspace ws, CancellationToken cancellationToken)
    {
        var runs = ws.Apps.SelectMany(a => a.Runs.Select(r => (App: a, Run: r)))
            .Concat(ws.Datasets.Where(d => d.Pipeline is not null).SelectMany(d => d.Pipeline!.Runs.Select(r => (App: d.Pipeline!, Run: r))))
            .ToList();
        await using (var copy = await connection.BeginBinaryImportAsync("COPY workflow_runs (id, tenant_id, app_id, workflow_id, type, triggered_from, version, status, total_tokens, created_by_role, created_by, created_at, finished_at) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var (app, r) in runs)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(r.Id, NpgsqlDbType.Uuid, cancellationToken);
                await copy.WriteAsync(ws.Id, NpgsqlDbType.Uuid, cancellationToken);
                await copy.WriteAsync(app.Id, NpgsqlDbType.Uuid, cancellationToken);
                await copy.WriteAsync(WorkflowId(app), NpgsqlDbType.Uuid, cancellationToken);
                await copy.WriteAsync(app.Mode == "workflow" ? "workflow" : app.Mode == "rag-pipeline" ? "rag-pipeline" : "chat", NpgsqlDbType.Varchar, cancellationToken);
                await copy.WriteAsync(r.TriggeredFrom, NpgsqlDbType.Varchar, cancellationToken);
                await copy.WriteAsync(r.TriggeredFrom is "debugging" or "rag-pipeline-debugging" ? "draft" : r.Version, NpgsqlDbType.Varchar, cancellationToken);
                await copy.WriteAsync(r.Status, NpgsqlDbType.Varchar, cancellationToken);
                await copy.WriteAsync((long)r.TotalTokens, NpgsqlDbType.Bigint, cancellationToken);
                await copy.WriteAsync(r.CreatedBy.UserType, NpgsqlDbType.Varchar, cancellationToken);
                await copy.WriteAsync(Guid.Parse(r.CreatedBy.UserId), NpgsqlDbType.Uuid, cancellationToken);
                await copy.WriteAsync(Naive(r.CreatedAt), NpgsqlDbType.Timestamp, cancellationToken);
                if (r.FinishedAt is { } finished)
                {
                    await copy.WriteAsync(Naive(finished), NpgsqlDbType.Timestamp, cancellationToken);
                }
                else
                {
                    await copy.WriteNullAsync(cancellationToken);
                }
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY workflow_node_executions (id, tenant_id, app_id, workflow_id, triggered_from, workflow_run_id, index, node_id, node_type, title, process_data, outputs, status, execution_metadata, created_at, created_by_role, created_by) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var (app, r) in runs)
            {
                foreach (var n in r.Nodes)
                {
                    var wire = Wire.Node(r, n);
                    await copy.StartRowAsync(cancellationToken);
                    await copy.WriteAsync(n.Id, NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(ws.Id, NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(app.Id, NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(WorkflowId(app), NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(app.Mode == "rag-pipeline" ? "rag-pipeline-run" : "workflow-run", NpgsqlDbType.Varchar, cancellationToken);
                    await copy.WriteAsync(r.Id, NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(n.Index, NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(n.NodeId, NpgsqlDbType.Varchar, cancellationToken);
                    await copy.WriteAsync(n.NodeType, NpgsqlDbType.Varchar, cancellationToken);
                    await copy.WriteAsync(n.Title, NpgsqlDbType.Varchar, cancellationToken);
                    await WriteJson(copy, wire["process_data"], cancellationToken);
                    await WriteJson(copy, wire["outputs"], cancellationToken);
                    await copy.WriteAsync(n.Status, NpgsqlDbType.Varchar, cancellationToken);
                    await WriteJson(copy, wire["execution_metadata"], cancellationToken);
                    await copy.WriteAsync(Naive(r.CreatedAt), NpgsqlDbType.Timestamp, cancellationToken);
                    await copy.WriteAsync(r.CreatedBy.UserType, NpgsqlDbType.Varchar, cancellationToken);
                    await copy.WriteAsync(Guid.Parse(r.CreatedBy.UserId), NpgsqlDbType.Uuid, cancellationToken);
                }
            }

            await copy.CompleteAsync(cancellationToken);
        }
    }

    /// <summary>The message's invoke_from as Dify stores it (the agent log's <c>source</c>).</summary>
    private static string InvokeFrom(SimConversation c) =>
        c.IsDebugger ? "debugger" : c.From.EndUser is null ? "explore" : c.From.EndUser.Type == "browser" ? "web-app" : "service-api";

    /// <summary>A stable workflow id per app (the published workflow the runs belong to).</summary>
    private static Guid WorkflowId(SimApp app) => new(app.Id.ToByteArray().Reverse().ToArray());

    /// <summary>Dify writes naive UTC (<c>timestamp without time zone</c>).</summary>
    private static DateTime Naive(DateTimeOffset t) => DateTime.SpecifyKind(t.UtcDateTime, DateTimeKind.Unspecified);

    private static async Task WriteGuid(NpgsqlBinaryImporter copy, Guid? value, CancellationToken cancellationToken)
    {
        if (value is { } v)
        {
            await copy.WriteAsync(v, NpgsqlDbType.Uuid, cancellationToken);
        }
        else
        {
            await copy.WriteNullAsync(cancellationToken);
        }
    }

    private static async Task WriteJson(NpgsqlBinaryImporter copy, JsonNode? node, CancellationToken cancellationToken)
    {
        if (node is null)
        {
            await copy.WriteNullAsync(cancellationToken);
        }
        else
        {
            await copy.WriteAsync(node.ToJsonString(), NpgsqlDbType.Text, cancellationToken);
        }
    }

    private static async Task Exec(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
