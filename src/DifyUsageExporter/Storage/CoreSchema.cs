namespace DifyUsageExporter.Storage;

internal static class CoreSchema
{
    /// <summary>Cycle history (for /health, metrics and `status`) and a small key/value table.</summary>
    public const string V1 = """
        CREATE TABLE cycles (
            id          TEXT PRIMARY KEY,
            trigger     TEXT NOT NULL,
            started_at  TEXT NOT NULL,
            finished_at TEXT,
            outcome     TEXT,
            summary     TEXT
        );
        CREATE INDEX ix_cycles_started ON cycles(started_at);
        CREATE TABLE kv (
            key        TEXT PRIMARY KEY,
            value      TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """;
}
