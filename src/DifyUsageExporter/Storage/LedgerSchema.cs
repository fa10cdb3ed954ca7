namespace DifyUsageExporter.Storage;

internal static class LedgerSchema
{
    /// <summary>
    /// The usage ledger: one row per usage event (keyed by Dify id), grouped by the Dify message or
    /// run it was read from (source_id) so a re-read replaces a source's events as a whole; the
    /// completeness of each extracted day; per-app watermarks. cost is a decimal string.
    /// </summary>
    public const string V2 = """
        CREATE TABLE usage_events (
            event_id      TEXT PRIMARY KEY,
            source_id     TEXT NOT NULL,
            app_id        TEXT NOT NULL,
            app_name      TEXT NOT NULL,
            app_mode      TEXT NOT NULL,
            user_id       TEXT NOT NULL,
            user_type     TEXT NOT NULL,
            occurred_at   TEXT NOT NULL,
            usage_date    TEXT NOT NULL,
            provider      TEXT NOT NULL,
            model         TEXT NOT NULL,
            input_tokens  INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cost          TEXT NOT NULL,
            currency      TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            updated_at    TEXT NOT NULL
        );
        CREATE INDEX ix_usage_events_date ON usage_events(usage_date);
        CREATE INDEX ix_usage_events_source ON usage_events(source_id);
        CREATE INDEX ix_usage_events_app ON usage_events(app_id, occurred_at);
        CREATE TABLE day_extractions (
            usage_date      TEXT PRIMARY KEY,
            complete        INTEGER NOT NULL,
            incomplete_apps TEXT NOT NULL,
            time_zone       TEXT NOT NULL,
            extracted_at    TEXT NOT NULL
        );
        CREATE TABLE app_watermarks (
            app_id     TEXT PRIMARY KEY,
            app_name   TEXT NOT NULL,
            watermark  TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """;
}
