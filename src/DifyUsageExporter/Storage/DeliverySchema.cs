namespace DifyUsageExporter.Storage;

internal static class DeliverySchema
{
    /// <summary>
    /// Delivery state. delivered_keys: the content hash of each key's last acknowledged total per
    /// target, so unchanged keys are not resent. outbox: one row per pending key (a newer total for
    /// the same key replaces the row, so an older total can never be replayed over a newer one);
    /// batch_id groups the rows of one request; status 'pending' goes out at the start of every
    /// cycle, 'dead' (records API_Meter rejected, or MAX_SPOOL_RETRIES cycles with an unexplained answer) waits for an operator's resend/discard.
    /// </summary>
    public const string V3 = """
        CREATE TABLE delivered_keys (
            target       TEXT NOT NULL,
            record_key   TEXT NOT NULL,
            usage_date   TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            delivered_at TEXT NOT NULL,
            PRIMARY KEY (target, record_key)
        );
        CREATE INDEX ix_delivered_keys_date ON delivered_keys(target, usage_date);
        CREATE TABLE outbox (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            target          TEXT NOT NULL,
            record_key      TEXT NOT NULL,
            usage_date      TEXT NOT NULL,
            record_json     TEXT NOT NULL,
            content_hash    TEXT NOT NULL,
            status          TEXT NOT NULL,
            batch_id        TEXT NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            failed_cycles   INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_error      TEXT,
            created_at      TEXT NOT NULL,
            updated_at      TEXT NOT NULL,
            UNIQUE (target, record_key)
        );
        CREATE INDEX ix_outbox_status ON outbox(status, target);
        CREATE INDEX ix_outbox_batch ON outbox(batch_id);
        """;
}
