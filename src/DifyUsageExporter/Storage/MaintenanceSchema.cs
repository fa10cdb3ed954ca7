namespace DifyUsageExporter.Storage;

internal static class MaintenanceSchema
{
    /// <summary>
    /// ledger_pruned_days: usage days whose ledger events LEDGER_RETENTION_DAYS removed after every
    /// key of the day was delivered (verify skips their delivered keys: the ledger no longer holds
    /// the events). cost_alerts: the (day, metric) thresholds already notified, so each alert goes
    /// out once per day and threshold, across restarts.
    /// </summary>
    public const string V5 = """
        CREATE TABLE ledger_pruned_days (
            usage_date TEXT PRIMARY KEY,
            events     INTEGER NOT NULL,
            pruned_at  TEXT NOT NULL
        );
        CREATE TABLE cost_alerts (
            usage_date TEXT NOT NULL,
            metric     TEXT NOT NULL,
            threshold  TEXT NOT NULL,
            total      TEXT NOT NULL,
            sent_at    TEXT NOT NULL,
            PRIMARY KEY (usage_date, metric, threshold)
        );
        """;
}
