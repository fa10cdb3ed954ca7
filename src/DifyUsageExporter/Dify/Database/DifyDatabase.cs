using Npgsql;

namespace DifyUsageExporter.Dify.Database;

/// <summary>A workspace of Dify's database: <c>tenants.id</c> and <c>tenants.name</c>.</summary>
public sealed record DifyTenant(string Id, string Name);

/// <summary>What the schema check found: required columns missing (with versions), optional ones missing, tables not granted.</summary>
public sealed record SchemaReport(IReadOnlyList<string> Missing, IReadOnlyList<string> OptionalMissing, IReadOnlyList<string> NotGranted)
{
    public bool HasPipelines => OptionalMissing.Count == 0;
}

/// <summary>
/// Dify's PostgreSQL, read-only: connection, schema and grant check, workspace and time zone, and the
/// check that node executions really are stored in the database (docs/database-source.md). Every failure
/// becomes a <see cref="DifyDatabaseException"/> naming the variable and the fix.
/// </summary>
public sealed partial class DifyDatabase : IAsyncDisposable, IDisposable
{
    /// <summary>Timeout of the small probe queries; extraction queries stream without one.</summary>
    private const int ProbeSeconds = 30;

    private readonly NpgsqlDataSource dataSource;

    public DifyDatabase(string connectionString)
    {
        Target = new NpgsqlConnectionStringBuilder(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        dataSource = builder.Build();
    }

    /// <summary>Host, port, database and user (never the password), for messages.</summary>
    public NpgsqlConnectionStringBuilder Target { get; }

    public string Describe => $"{Target.Host}:{Target.Port}/{Target.Database} as {Target.Username}";

    /// <summary>Opens a connection; failures are classified (unreachable, login, no database).</summary>
    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or IOException && !cancellationToken.IsCancellationRequested)
        {
            throw DifyDatabaseException.From(ex, Target);
        }
    }

    /// <summary>The server's version string (e.g. "16.4").</summary>
    public async Task<string> ServerVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection.PostgreSqlVersion.ToString();
    }

    /// <summary>Tables and columns the source reads (<see cref="DifySchema"/>), and SELECT grants on them.</summary>
    public async Task<SchemaReport> CheckSchemaAsync(CancellationToken cancellationToken)
    {
        // pg_catalog, not information_schema: the latter hides the columns of tables the role may not read,
        // and a missing grant must be reported as such, not as a missing table.
        var present = new HashSet<(string, string)>();
        var granted = new Dictionary<string, bool>(StringComparer.Ordinal);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await QueryAsync(connection, """
            SELECT c.relname::text, a.attname::text, has_table_privilege(c.oid, 'SELECT')
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = ANY (current_schemas(false)) AND c.relname = ANY (@tables) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
            """, p => p.AddWithValue("tables", DifySchema.Tables.ToArray()), r =>
        {
            present.Add((r.GetString(0), r.GetString(1)));
            granted[r.GetString(0)] = r.GetBoolean(2);
        }, cancellationToken).ConfigureAwait(false);

        var missing = DifySchema.Columns.Where(c => !c.Optional && !present.Contains((c.Table, c.Column)))
            .Select(c => present.Any(p => p.Item1 == c.Table)
                ? $"column {c.Table}.{c.Column} (present in {c.Versions})"
                : $"table {c.Table} (column {c.Column}: {c.Versions})")
            .Distinct(StringComparer.Ordinal).ToList();
        var optional = DifySchema.Columns.Where(c => c.Optional && !present.Contains((c.Table, c.Column)))
            .Select(c => $"column {c.Table}.{c.Column} ({c.Versions})").ToList();
        var notGranted = granted.Where(g => !g.Value).Select(g => g.Key).Order(StringComparer.Ordinal).ToList();
        return new SchemaReport(missing, optional, notGranted);
    }

    /// <summary>Fails with the exact table/column (and the Dify versions with it) or the GRANT to run.</summary>
    public async Task<SchemaReport> RequireSchemaAsync(CancellationToken cancellationToken)
    {
        var report = await CheckSchemaAsync(cancellationToken).ConfigureAwait(false);
        if (report.Missing.Count > 0)
        {
            throw new DifyDatabaseException(DifyDatabaseFailure.Schema, $"Dify's database ({Describe}) lacks what the exporter reads: {string.Join("; ", report.Missing)}.", "point DIFY_DATABASE_URL at Dify's own database (DB_DATABASE of Dify's .env), or upgrade Dify to a version that has it; an older Dify can use DIFY_SOURCE=console.");
        }

        if (report.NotGranted.Count > 0)
        {
            throw new DifyDatabaseException(DifyDatabaseFailure.Permission, $"The role {Target.Username} may not read {string.Join(", ", report.NotGranted)} in Dify's database.", $"as a Dify database owner run: GRANT SELECT ON {string.Join(", ", report.NotGranted)} TO {Target.Username}; (docs/database-source.md).");
        }

        return report;
    }

    /// <summary>The workspace to read: DIFY_TENANT_ID, else the only one. Several without DIFY_TENANT_ID, or an unknown id, fail naming the choices.</summary>
    public async Task<DifyTenant> ResolveTenantAsync(string? configured, CancellationToken cancellationToken)
    {
        var tenants = new List<DifyTenant>();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await QueryAsync(connection, "SELECT id::text, name FROM tenants ORDER BY name, id", null, r => tenants.Add(new DifyTenant(r.GetString(0), r.IsDBNull(1) ? string.Empty : r.GetString(1))), cancellationToken).ConfigureAwait(false);
        var choices = string.Join(", ", tenants.Take(20).Select(t => $"{t.Id} ({t.Name})"));
        if (configured is not null)
        {
            return tenants.FirstOrDefault(t => string.Equals(t.Id, configured, StringComparison.OrdinalIgnoreCase))
                ?? throw new DifyDatabaseException(DifyDatabaseFailure.Tenant, $"DIFY_TENANT_ID {configured} is not a workspace of Dify's database ({Describe}).", $"set DIFY_TENANT_ID to one of: {(choices.Length == 0 ? "(the database has no workspace: is DIFY_DATABASE_URL Dify's database?)" : choices)}.");
        }

        return tenants.Count switch
        {
            1 => tenants[0],
            0 => throw new DifyDatabaseException(DifyDatabaseFailure.Tenant, $"Dify's database ({Describe}) holds no workspace (tenants is empty).", "point DIFY_DATABASE_URL at the database of a Dify that is set up."),
            _ => throw new DifyDatabaseException(DifyDatabaseFailure.Tenant, $"Dify's database holds {tenants.Count} workspaces and DIFY_TENANT_ID is not set.", $"set DIFY_TENANT_ID to the workspace to export, one of: {choices}."),
        };
    }

    /// <summary>The workspace owner's <c>accounts.timezone</c> (the zone Dify's console shows the owner), or null.</summary>
    public async Task<string?> OwnerTimeZoneAsync(string tenantId, CancellationToken cancellationToken)
    {
        string? zone = null;
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await QueryAsync(connection, """
            SELECT a.timezone FROM tenant_account_joins j JOIN accounts a ON a.id = j.account_id
            WHERE j.tenant_id = @tenant::uuid AND j.role = 'owner' ORDER BY a.id LIMIT 1
            """, p => p.AddWithValue("tenant", tenantId), r => zone = r.IsDBNull(0) ? null : r.GetString(0), cancellationToken).ConfigureAwait(false);
        return zone;
    }

    internal async Task QueryAsync(NpgsqlConnection connection, string sql, Action<NpgsqlParameterCollection>? parameters, Action<NpgsqlDataReader> row, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = ProbeSeconds };
            parameters?.Invoke(command.Parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                row(reader);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw DifyDatabaseException.From(ex, Target);
        }
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();

    public void Dispose() => dataSource.Dispose();
}
