using System.Globalization;
using Npgsql;

namespace DifyUsageExporter.Configuration;

/// <summary>
/// <c>DIFY_DATABASE_URL</c>: a <c>postgres://user:password@host:port/database?sslmode=require</c> URI (the
/// form Dify's own <c>SQLALCHEMY_DATABASE_URI</c> and most PaaS use; <c>postgresql+psycopg2://</c> too) or an
/// Npgsql connection string (<c>Host=db;Username=...;Password=...;Database=dify</c>). MySQL URLs are refused:
/// the database source reads PostgreSQL only (docs/database-source.md). Problems never echo the value: it
/// holds a password.
/// </summary>
public static class DatabaseUrl
{
    public const string Accepted = "postgres://user:password@host:5432/dify (optionally ?sslmode=require), or an Npgsql connection string such as Host=db;Port=5432;Username=exporter_ro;Password=...;Database=dify.";

    private static readonly Dictionary<string, string> QueryKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = "SSL Mode",
        ["connect_timeout"] = "Timeout",
        ["application_name"] = "Application Name",
        ["target_session_attrs"] = "Target Session Attributes",
        ["options"] = "Options",
        ["search_path"] = "Search Path",
    };

    /// <summary>The Npgsql connection string, or a problem (never containing the value).</summary>
    public static (string? ConnectionString, string? Problem) Parse(string text)
    {
        var trimmed = text.Trim();
        var scheme = trimmed.Contains("://", StringComparison.Ordinal) ? trimmed[..trimmed.IndexOf("://", StringComparison.Ordinal)].ToLowerInvariant() : null;
        if (scheme is not null && (scheme.StartsWith("mysql", StringComparison.Ordinal) || scheme.StartsWith("mariadb", StringComparison.Ordinal) || scheme.StartsWith("oceanbase", StringComparison.Ordinal)))
        {
            return (null, $"is a {scheme}:// URL: a MySQL-family Dify database (DB_TYPE=mysql) is not supported by the database source, which reads PostgreSQL only. Use DIFY_SOURCE=console for this Dify.");
        }

        try
        {
            var builder = scheme is null ? new NpgsqlConnectionStringBuilder(trimmed) : FromUri(trimmed, scheme);
            if (string.IsNullOrWhiteSpace(builder.Host))
            {
                return (null, "names no host.");
            }

            builder.ApplicationName ??= "dify-usage-exporter";
            return (builder.ConnectionString, null);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or UriFormatException or KeyNotFoundException or OverflowException)
        {
            // Npgsql's messages name keywords, not values; still, only the kind of problem is shown.
            return (null, "cannot be read as a PostgreSQL URI or an Npgsql connection string" + (ex is ArgumentException { ParamName: { } key } ? $" (keyword '{key}')" : string.Empty) + ".");
        }
    }

    /// <summary>The password of the value (URI user-info or the connection string's Password), for the secret registry.</summary>
    public static string? Password(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || Parse(text).ConnectionString is not { } connectionString)
        {
            return null;
        }

        return new NpgsqlConnectionStringBuilder(connectionString).Password;
    }

    private static NpgsqlConnectionStringBuilder FromUri(string text, string scheme)
    {
        if (scheme is not ("postgres" or "postgresql") && !scheme.StartsWith("postgresql+", StringComparison.Ordinal))
        {
            throw new FormatException("scheme");
        }

        // System.Uri does not know postgres:// or the SQLAlchemy driver suffix; read it as http with the same parts.
        var uri = new Uri("http://" + text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..]);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/')) is { Length: > 0 } db ? db : null,
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            if (!QueryKeys.TryGetValue(kv[0], out var key))
            {
                throw new ArgumentException("unknown URI parameter", kv[0]);
            }

            var value = Uri.UnescapeDataString(kv.ElementAtOrDefault(1) ?? string.Empty);
            builder[key] = key == "SSL Mode" ? CultureInfo.InvariantCulture.TextInfo.ToTitleCase(value.Replace("-", " ", StringComparison.Ordinal)).Replace(" ", string.Empty, StringComparison.Ordinal) : value;
        }

        return builder;
    }
}
