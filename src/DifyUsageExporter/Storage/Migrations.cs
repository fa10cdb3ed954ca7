using System.Data.Common;
using System.Globalization;

namespace DifyUsageExporter.Storage;

/// <summary>
/// Versioned schema migrations, applied in order inside one transaction each. A released
/// migration is never edited: add a new one (to <see cref="All"/> and, with the same number, to
/// <see cref="PostgresSchema.All"/>). A database newer than this build is refused.
/// </summary>
internal static class Migrations
{
    public static readonly IReadOnlyList<(int Version, string Name, string Sql)> All =
    [
        (1, "core", CoreSchema.V1),
        (2, "usage-ledger", LedgerSchema.V2),
        (3, "delivery-spool", DeliverySchema.V3),
        (4, "daily-totals", TotalsSchema.V4),
        (5, "maintenance", MaintenanceSchema.V5),
        (6, "cycle-health", CoreSchema.V6),
    ];

    public static void Apply(DbConnection connection, string now) => Apply(connection, now, All);

    public static void Apply(DbConnection connection, string now, IReadOnlyList<(int Version, string Name, string Sql)> all)
    {
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";
            create.ExecuteNonQuery();
        }

        int current;
        using (var read = connection.CreateCommand())
        {
            read.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
            current = Convert.ToInt32(read.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        var latest = all[^1].Version;
        if (current > latest)
        {
            throw new StoreException($"The state store has schema version {current}, newer than this exporter understands ({latest}). Run a newer exporter version, or restore a backup made by this one.");
        }

        foreach (var (version, name, sql) in all)
        {
            if (version <= current)
            {
                continue;
            }

            using var transaction = connection.BeginTransaction();
            using (var migrate = connection.CreateCommand())
            {
                migrate.Transaction = transaction;
                migrate.CommandText = sql;
                migrate.ExecuteNonQuery();
            }

            using (var record = connection.CreateCommand())
            {
                record.Transaction = transaction;
                record.CommandText = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @a)";
                record.AddWithValue("@v", version);
                record.AddWithValue("@n", name);
                record.AddWithValue("@a", now);
                record.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }
}
