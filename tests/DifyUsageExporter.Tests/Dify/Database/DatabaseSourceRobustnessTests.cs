using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify.Database;
using DifyUsageExporter.Usage;
using Npgsql;
using Shouldly;
using Simulators.Dify;
using Xunit;

namespace DifyUsageExporter.Tests.Dify.Database;

/// <summary>Bad rows, a foreign storage backend, schema drift, missing grants, wrong credentials, tenants: each a clear, named failure.</summary>
public class DatabaseSourceRobustnessTests
{
    private static readonly DateOnly From = new(2026, 6, 23);
    private static readonly DateOnly To = new(2026, 7, 8);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(SimWorkspace Ws, string Db)> WorkspaceAsync(int seed)
    {
        var ws = WorkspaceGenerator.Generate(GeneratorOptions.ForVersion("1.17.1", seed));
        return (ws, await DatabaseHarness.CreateAsync(ws, "Asia/Tokyo", Ct));
    }

    [Fact]
    public async Task Unparseable_json_marks_only_that_day_incomplete_with_the_row_id()
    {
        var (ws, db) = await WorkspaceAsync(71);
        var run = ws.Apps.Where(a => a.Mode == "workflow").SelectMany(a => a.Runs)
            .First(r => r.TriggeredFrom == "app-run" && r.CreatedAt > new DateTimeOffset(2026, 6, 26, 0, 0, 0, TimeSpan.Zero) && r.Nodes.Any(n => n.Shape == SimNodeUsageShape.ProcessData));
        var node = run.Nodes.First(n => n.Shape == SimNodeUsageShape.ProcessData);
        await DatabaseHarness.ExecAsync(db, $"UPDATE workflow_node_executions SET process_data = '{{\"usage\": {{broken' WHERE id = '{node.Id}'");
        var message = ws.Apps.Where(a => a.Mode == "chat").SelectMany(a => a.Conversations).SelectMany(c => c.Messages).First(m => m.CreatedAt > new DateTimeOffset(2026, 6, 26, 0, 0, 0, TimeSpan.Zero));
        await DatabaseHarness.ExecAsync(db, $"UPDATE messages SET message_metadata = 'not json' WHERE id = '{message.Id}'");

        using var harness = DatabaseHarness.Over(db);
        var report = await harness.ExtractAsync(From, To);

        var zone = report.TimeZone;
        var badDays = new[] { UsageTime.LocalDate(run.CreatedAt, zone), UsageTime.LocalDate(message.CreatedAt, zone) }.Distinct().Order().ToList();
        report.IncompleteDays().ShouldBe(badDays);
        report.Failures.ShouldContain(f => f.Reason.Contains($"workflow_node_executions row {node.Id}: process_data is not valid JSON", StringComparison.Ordinal));
        report.Failures.ShouldContain(f => f.Reason.Contains($"messages row {message.Id}: message_metadata is not valid JSON", StringComparison.Ordinal));
        // Everything else was read.
        var events = await harness.EventsAsync(From, To);
        events.Count.ShouldBeGreaterThan(100);
        events.ShouldNotContain(e => e.SourceId.StartsWith(run.Id.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Node_executions_stored_elsewhere_logstore_are_refused_pointing_at_the_console_source()
    {
        var (_, db) = await WorkspaceAsync(72);
        await DatabaseHarness.ExecAsync(db, "DELETE FROM workflow_node_executions");
        using var harness = DatabaseHarness.Over(db);
        var ex = await Should.ThrowAsync<DifyDatabaseException>(() => harness.ExtractAsync(From, To));
        ex.Failure.ShouldBe(DifyDatabaseFailure.StorageBackend);
        ex.Message.ShouldContain("WORKFLOW_NODE_EXECUTION_STORAGE_BACKEND=logstore");
        ex.Message.ShouldContain("DIFY_SOURCE=console");
    }

    [Fact]
    public async Task A_missing_column_names_itself_and_the_Dify_versions_that_have_it()
    {
        var (_, db) = await WorkspaceAsync(73);
        await DatabaseHarness.ExecAsync(db, "ALTER TABLE messages DROP COLUMN workflow_run_id");
        using var harness = DatabaseHarness.Over(db);
        var ex = await Should.ThrowAsync<DifyDatabaseException>(() => harness.ExtractAsync(From, To));
        ex.Failure.ShouldBe(DifyDatabaseFailure.Schema);
        ex.Message.ShouldContain("column messages.workflow_run_id (present in Dify 0.6.0 and later");
    }

    [Fact]
    public async Task A_read_only_role_works_and_a_missing_grant_names_the_table_and_the_GRANT()
    {
        var (_, db) = await WorkspaceAsync(74);
        var role = "ro_" + Guid.NewGuid().ToString("N")[..10];
        await DatabaseHarness.ExecAsync(db, $"CREATE ROLE {role} LOGIN PASSWORD 'ro-secret-{role}'; GRANT SELECT ON {string.Join(", ", DifySchema.Tables.Where(t => t != "workflow_runs"))} TO {role};");
        var ro = new NpgsqlConnectionStringBuilder(db) { Username = role, Password = $"ro-secret-{role}" }.ConnectionString;

        using (var denied = DatabaseHarness.Over(ro))
        {
            var ex = await Should.ThrowAsync<DifyDatabaseException>(() => denied.ExtractAsync(From, To));
            ex.Failure.ShouldBe(DifyDatabaseFailure.Permission);
            ex.Message.ShouldContain($"GRANT SELECT ON workflow_runs TO {role};");
            var check = await DatabaseDiagnostics.CheckAsync(denied.Settings, TimeProvider.System, Ct);
            check.Ok.ShouldBeFalse();
            check.Steps.ShouldContain(s => s.Step == "permissions" && s.Result.Contains("NO SELECT on workflow_runs", StringComparison.Ordinal));
        }

        await DatabaseHarness.ExecAsync(db, $"GRANT SELECT ON workflow_runs TO {role};");
        using var granted = DatabaseHarness.Over(ro);
        (await granted.ExtractAsync(From, To)).Failures.ShouldBeEmpty();
        (await DatabaseDiagnostics.CheckAsync(granted.Settings, TimeProvider.System, Ct)).Ok.ShouldBeTrue();
    }

    [Fact]
    public async Task Wrong_password_and_unreachable_server_name_DIFY_DATABASE_URL_and_never_the_password()
    {
        var (_, db) = await WorkspaceAsync(75);
        var wrong = new NpgsqlConnectionStringBuilder(db) { Password = "definitely-wrong-pw-7731" }.ConnectionString;
        using (var harness = DatabaseHarness.Over(wrong))
        {
            var ex = await Should.ThrowAsync<DifyDatabaseException>(() => harness.ExtractAsync(From, To));
            ex.Failure.ShouldBe(DifyDatabaseFailure.Authentication);
            ex.Message.ShouldContain("DIFY_DATABASE_URL");
            ex.ToString().ShouldNotContain("definitely-wrong-pw-7731");
        }

        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var nowhere = new NpgsqlConnectionStringBuilder(db) { Port = port, Timeout = 3 }.ConnectionString;
        using var unreachable = DatabaseHarness.Over(nowhere);
        var down = await Should.ThrowAsync<DifyDatabaseException>(() => unreachable.ExtractAsync(From, To));
        down.Failure.ShouldBe(DifyDatabaseFailure.Unreachable);
        down.Message.ShouldContain("DIFY_DATABASE_URL");
    }

    [Fact]
    public async Task Several_workspaces_need_DIFY_TENANT_ID_and_a_wrong_one_lists_the_choices()
    {
        var (ws, db) = await WorkspaceAsync(76);
        await DatabaseHarness.ExecAsync(db, $"INSERT INTO tenants (id, name) VALUES ('{Guid.NewGuid()}', 'Second workspace')");
        using (var none = DatabaseHarness.Over(db))
        {
            var ex = await Should.ThrowAsync<DifyDatabaseException>(() => none.ExtractAsync(From, To));
            ex.Failure.ShouldBe(DifyDatabaseFailure.Tenant);
            ex.Message.ShouldContain("DIFY_TENANT_ID is not set");
            ex.Message.ShouldContain(ws.Id.ToString());
        }

        using (var wrong = DatabaseHarness.Over(db, s => s with { DifyTenantId = Guid.NewGuid().ToString() }))
        {
            (await Should.ThrowAsync<DifyDatabaseException>(() => wrong.ExtractAsync(From, To))).Message.ShouldContain("Second workspace");
        }

        using var chosen = DatabaseHarness.Over(db, s => s with { DifyTenantId = ws.Id.ToString(), UsageTimeZone = TimeZoneInfo.Utc });
        var report = await chosen.ExtractAsync(From, To);
        report.Failures.ShouldBeEmpty();
        report.TimeZone.ShouldBe(TimeZoneInfo.Utc, "USAGE_TIMEZONE wins over the owner's zone");
    }

    [Theory]
    [InlineData("mysql://dify:secretpw1@db:3306/dify", "MySQL-family")]
    [InlineData("mysql+pymysql://dify:secretpw1@db:3306/dify", "MySQL-family")]
    [InlineData("postgres://dify:secretpw1@db:5432/dify?bogus=1", "keyword 'bogus'")]
    public void A_DIFY_DATABASE_URL_that_is_not_PostgreSQL_is_refused_without_echoing_it(string url, string expected)
    {
        var (connectionString, problem) = DatabaseUrl.Parse(url);
        connectionString.ShouldBeNull();
        problem!.ShouldContain(expected);
        problem!.ShouldNotContain("secretpw1");
    }

    [Theory]
    [InlineData("postgres://exporter%40ro:p%3Ass@db.internal:6543/dify?sslmode=require", "db.internal", 6543, "exporter@ro", "p:ss", "dify")]
    [InlineData("postgresql+psycopg2://postgres:difyai123456@db/dify", "db", 5432, "postgres", "difyai123456", "dify")]
    [InlineData("Host=db;Port=5433;Username=ro;Password=pw12345;Database=dify", "db", 5433, "ro", "pw12345", "dify")]
    public void URIs_and_connection_strings_are_read(string url, string host, int port, string user, string password, string database)
    {
        var (connectionString, problem) = DatabaseUrl.Parse(url);
        problem.ShouldBeNull();
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        (b.Host, b.Port, b.Username, b.Password, b.Database).ShouldBe((host, port, user, password, database));
        DatabaseUrl.Password(url).ShouldBe(password);
    }
}
