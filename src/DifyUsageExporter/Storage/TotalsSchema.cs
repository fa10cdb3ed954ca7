namespace DifyUsageExporter.Storage;

internal static class TotalsSchema
{
    /// <summary>
    /// Per-day totals kept up to date with the ledger (usage-semantics.md §3 keys): triggers mark the
    /// usage day of every inserted, deleted or materially changed event dirty, and the export cycle
    /// re-aggregates only the dirty days of its window. A re-read that changes nothing marks nothing,
    /// so a cycle without new data reads no event. Existing ledgers start with every day dirty.
    /// The triggers avoid OR IGNORE: inside a trigger the outer statement's conflict policy wins
    /// (sqlite.org/lang_createtrigger.html), and the ledger's upsert would turn it into ABORT.
    /// </summary>
    public const string V4 = """
        CREATE TABLE daily_totals (
            usage_date       TEXT NOT NULL,
            provider         TEXT NOT NULL,
            model            TEXT NOT NULL,
            input_tokens     INTEGER NOT NULL,
            output_tokens    INTEGER NOT NULL,
            request_count    INTEGER NOT NULL,
            cost             TEXT NOT NULL,
            currency         TEXT NOT NULL,
            other_currencies TEXT NOT NULL,
            PRIMARY KEY (usage_date, provider, model)
        );
        CREATE TABLE dirty_days (usage_date TEXT PRIMARY KEY) WITHOUT ROWID;
        INSERT OR IGNORE INTO dirty_days (usage_date) SELECT DISTINCT usage_date FROM usage_events;
        CREATE TRIGGER usage_events_dirty_insert AFTER INSERT ON usage_events
        BEGIN
            INSERT INTO dirty_days (usage_date) SELECT new.usage_date WHERE NOT EXISTS (SELECT 1 FROM dirty_days WHERE usage_date = new.usage_date);
        END;
        CREATE TRIGGER usage_events_dirty_delete AFTER DELETE ON usage_events
        BEGIN
            INSERT INTO dirty_days (usage_date) SELECT old.usage_date WHERE NOT EXISTS (SELECT 1 FROM dirty_days WHERE usage_date = old.usage_date);
        END;
        CREATE TRIGGER usage_events_dirty_update AFTER UPDATE ON usage_events
        WHEN old.usage_date IS NOT new.usage_date OR old.provider IS NOT new.provider OR old.model IS NOT new.model
            OR old.input_tokens IS NOT new.input_tokens OR old.output_tokens IS NOT new.output_tokens
            OR old.cost IS NOT new.cost OR old.currency IS NOT new.currency
        BEGIN
            INSERT INTO dirty_days (usage_date) SELECT old.usage_date WHERE NOT EXISTS (SELECT 1 FROM dirty_days WHERE usage_date = old.usage_date);
            INSERT INTO dirty_days (usage_date) SELECT new.usage_date WHERE NOT EXISTS (SELECT 1 FROM dirty_days WHERE usage_date = new.usage_date);
        END;
        """;
}
