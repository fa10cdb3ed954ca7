using System.Net.Sockets;
using Npgsql;

namespace DifyUsageExporter.Storage;

/// <summary>
/// Turns a failure to reach or use the PostgreSQL state store into a message that names
/// STATE_DATABASE_URL, the cause and the fix. It quotes PostgreSQL's own message text (which never
/// holds the password) and the host, port, database and user, never the connection string.
/// </summary>
public static class PostgresDiagnosis
{
    /// <summary>"database exporter_state on db:5432 as exporter": what the messages call the store.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return $"PostgreSQL database {builder.Database ?? builder.Username ?? "?"} on {builder.Host}:{builder.Port} as {builder.Username ?? "(default user)"}";
    }

    /// <summary>Why `backup` refuses on PostgreSQL, and the pg_dump command that does it.</summary>
    public static string BackupAdvice(string location) =>
        $"The state is in {location} (STATE_DATABASE_URL), which the exporter does not copy itself: back it up with PostgreSQL's tools, which take a consistent snapshot while replicas run: " +
        "`pg_dump --format=custom --file=exporter-state-$(date -u +%Y%m%dT%H%M%SZ).dump \"$STATE_DATABASE_URL\"` (docs/state-postgres.md).";

    /// <summary>Why `restore` refuses on PostgreSQL, and the pg_restore command that does it.</summary>
    public static string RestoreAdvice(string location) =>
        $"The state is in {location} (STATE_DATABASE_URL): restore a pg_dump archive with PostgreSQL's tools after stopping every replica: " +
        "`pg_restore --clean --if-exists --no-owner --single-transaction --dbname=\"$STATE_DATABASE_URL\" exporter-state-<time>.dump`, then start the replicas (docs/state-postgres.md).";

    public static StoreException Diagnose(Exception failure, string location)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var server = failure as PostgresException ?? failure.InnerException as PostgresException;
        var message = server?.SqlState switch
        {
            "28P01" or "28000" =>
                $"STATE_DATABASE_URL: {location} rejected the login ({server.MessageText}). Fix: correct the user name and password in STATE_DATABASE_URL (or STATE_DATABASE_URL_FILE), or allow the user in pg_hba.conf.",
            "3D000" =>
                $"STATE_DATABASE_URL: the database of {location} does not exist ({server.MessageText}). Fix: create it, e.g. `createdb -O <user> <database>` or `CREATE DATABASE <database> OWNER <user>;`, then start again.",
            "42501" =>
                $"STATE_DATABASE_URL: {location} lacks a privilege ({server.MessageText}). The exporter creates and migrates its own tables. Fix: give the user a database it owns (`CREATE DATABASE <database> OWNER <user>;`), or `GRANT CREATE, USAGE ON SCHEMA public TO <user>;` and ownership of the exporter's tables.",
            "53300" =>
                $"STATE_DATABASE_URL: {location} has no free connection slot ({server.MessageText}). Fix: raise max_connections or lower other clients' pools.",
            not null =>
                $"STATE_DATABASE_URL: {location} answered with an error ({server.SqlState}: {server.MessageText}). Fix the server or the user's rights as the message says, then start again.",
            null when failure is TimeoutException || failure.InnerException is TimeoutException || HasSocketError(failure) =>
                $"STATE_DATABASE_URL: {location} cannot be reached ({Innermost(failure).Message.TrimEnd('.')}). Fix: check the host and port in STATE_DATABASE_URL, that PostgreSQL runs and listens there (listen_addresses) and that no firewall blocks it.",
            null =>
                $"STATE_DATABASE_URL: {location} cannot be used ({failure.GetType().Name}: {failure.Message.TrimEnd('.')}). Check STATE_DATABASE_URL and the server.",
        };
        return new StoreException(message + " Nothing was changed: the spool and ledger stay as they are.", failure);
    }

    private static bool HasSocketError(Exception failure)
    {
        for (var e = failure; e is not null; e = e.InnerException)
        {
            if (e is SocketException)
            {
                return true;
            }
        }

        return failure is NpgsqlException { IsTransient: true };
    }

    private static Exception Innermost(Exception failure)
    {
        var e = failure;
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }
}
