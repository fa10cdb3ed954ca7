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

    /// <summary>
    /// What /health and RUN_ON_START need to know of each cycle, so a restarted daemon reports what
    /// it inherited: caught_up = extraction finished for every day and nothing was left pending in
    /// the spool (dead letters aside); apps_skipped = apps of unknown mode; failure_kind =
    /// 'credentials' when Dify rejected the credentials. Earlier successful cycles were caught up.
    /// </summary>
    public const string V6 = """
        ALTER TABLE cycles ADD COLUMN caught_up INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE cycles ADD COLUMN apps_skipped INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE cycles ADD COLUMN failure_kind TEXT;
        UPDATE cycles SET caught_up = 1 WHERE outcome = 'success';
        CREATE INDEX ix_cycles_caught_up ON cycles(caught_up, started_at);
        """;
}
