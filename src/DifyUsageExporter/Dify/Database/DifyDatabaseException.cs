using System.Net.Sockets;
using Npgsql;

namespace DifyUsageExporter.Dify.Database;

/// <summary>What went wrong with Dify's database, for <c>check --database</c> and the cycle's error.</summary>
public enum DifyDatabaseFailure
{
    Unreachable,
    Authentication,
    NoDatabase,
    Permission,
    Schema,
    Tenant,
    StorageBackend,
    NotPostgres,
    Other,
}

/// <summary>
/// A failure of the database source that retrying cannot fix by itself. The message names the variable
/// and the fix; it never holds the connection string or the password.
/// </summary>
public sealed class DifyDatabaseException(DifyDatabaseFailure failure, string message, string fix, Exception? inner = null)
    : Exception(message + " Fix: " + fix, inner)
{
    public DifyDatabaseFailure Failure { get; } = failure;

    public string Problem { get; } = message;

    public string Fix { get; } = fix;

    /// <summary>Classifies an Npgsql failure (connection, login, missing database or grant) into a clear error.</summary>
    public static DifyDatabaseException From(Exception ex, NpgsqlConnectionStringBuilder target)
    {
        var where = $"{target.Host}:{target.Port}/{target.Database ?? "(default database)"} as {target.Username ?? "(no user)"}";
        switch (ex)
        {
            case DifyDatabaseException known:
                return known;
            case PostgresException { SqlState: "28P01" or "28000" } pg:
                return new(DifyDatabaseFailure.Authentication, $"Dify's database ({where}) rejected the login: {pg.MessageText}.", "correct the user and password in DIFY_DATABASE_URL (or the file of DIFY_DATABASE_URL_FILE); for a new read-only role see docs/database-source.md.", ex);
            case PostgresException { SqlState: "3D000" } pg:
                return new(DifyDatabaseFailure.NoDatabase, $"Dify's database server ({target.Host}:{target.Port}) has no database '{target.Database}': {pg.MessageText}.", "put Dify's database name (DB_DATABASE in Dify's .env, 'dify' by default) in the path of DIFY_DATABASE_URL.", ex);
            case PostgresException { SqlState: "42501" } pg:
                return new(DifyDatabaseFailure.Permission, $"The role {target.Username} may not read a table of Dify's database: {pg.MessageText}.", $"as a Dify database owner run: {DifySchema.GrantStatement(target.Username ?? "<role>")} (docs/database-source.md).", ex);
            case PostgresException { SqlState: "42P01" or "42703" } pg:
                return new(DifyDatabaseFailure.Schema, $"Dify's database ({where}) lacks a table or column the exporter reads: {pg.MessageText}.", "run `dify-usage-exporter check --database` for the exact table or column and the Dify versions that have it; DIFY_DATABASE_URL may point at another database than Dify's.", ex);
            case NpgsqlException { InnerException: SocketException or TimeoutException or IOException } or NpgsqlException { IsTransient: true } or TimeoutException or SocketException:
                return new(DifyDatabaseFailure.Unreachable, $"Dify's database at {target.Host}:{target.Port} cannot be reached: {(ex.InnerException ?? ex).Message}.", "check the host and port of DIFY_DATABASE_URL: the exporter must be on Dify's network (Docker: the db service name and 5432, e.g. `db`), and PostgreSQL must accept it (listen_addresses, pg_hba.conf). Spooled data is kept and sent by the next cycle.", ex);
            case PostgresException pg:
                return new(DifyDatabaseFailure.Other, $"Dify's database ({where}) answered {pg.SqlState}: {pg.MessageText}.", "see docs/database-source.md; `dify-usage-exporter check --database` diagnoses connection, grants, schema and tenant.", ex);
            default:
                return new(DifyDatabaseFailure.Other, $"Dify's database ({where}) failed: {ex.Message}.", "run `dify-usage-exporter check --database`.", ex);
        }
    }
}
