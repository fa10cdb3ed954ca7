namespace DifyUsageExporter.Configuration;

/// <summary>One configuration variable: its name, accepted aliases, default and documentation.</summary>
/// <param name="Name">The canonical variable name (seed-compatible).</param>
/// <param name="Aliases">Other names accepted for the same setting (older .env files).</param>
/// <param name="Default">The default as written in .env, or null when there is none.</param>
/// <param name="Secret">True when the value must be masked in every output.</param>
/// <param name="Group">Section of the README table and of .env.example.</param>
/// <param name="Description">One line for the README, .env.example and <c>config</c>.</param>
public sealed record VariableSpec(
    string Name,
    string[] Aliases,
    string? Default,
    bool Secret,
    string Group,
    string Description);

/// <summary>
/// Every variable the exporter reads. The README's configuration table, .env.example and the
/// <c>config</c> command are checked against this list by tests, so adding a setting here without
/// documenting it fails the build.
/// </summary>
public static class VariableCatalog
{
    public const string GroupDify = "Dify";
    public const string GroupWindow = "Extraction window";
    public const string GroupMeter = "API_Meter";
    public const string GroupOutputs = "Other outputs and notifications";
    public const string GroupDaemon = "Daemon";
    public const string GroupMaintenance = "Backups, retention and alerts";
    public const string GroupDashboard = "Dashboard";
    public const string GroupTelemetry = "OpenTelemetry";
    public const string GroupLegacy = "Accepted for compatibility";

    public static readonly IReadOnlyList<VariableSpec> All =
    [
        // Dify
        new("DIFY_SOURCE", [], "console", false, GroupDify, "console|database: read usage through the console API (default) or directly from Dify's PostgreSQL (docs/database-source.md)."),
        new("DIFY_DATABASE_URL", [], null, true, GroupDify, "DIFY_SOURCE=database: Dify's PostgreSQL, a postgres://user:password@host:5432/dify URI or an Npgsql connection string; use a read-only role. Required with DIFY_SOURCE=database."),
        new("DIFY_TENANT_ID", [], null, false, GroupDify, "DIFY_SOURCE=database: the workspace (tenants.id) to export; required when the database holds several workspaces, else the only one."),
        new("DIFY_API_BASE_URL", ["DIFY_API_URL"], null, false, GroupDify, "Dify origin, e.g. https://dify.example.com (no /console/api). Required with DIFY_SOURCE=console."),
        new("DIFY_EMAIL", [], null, false, GroupDify, "Console login e-mail of a dedicated service account. Required unless DIFY_API_TOKEN is set."),
        new("DIFY_PASSWORD", [], null, true, GroupDify, "Console login password. Required with DIFY_EMAIL."),
        new("DIFY_PASSWORD_ENCODING", [], "auto", false, GroupDify, "auto|plain|base64: how the password is sent at login; auto = Base64 from the Dify 1.11 line on, plain before."),
        new("DIFY_API_TOKEN", [], null, true, GroupDify, "Workspace admin key (Dify's ADMIN_API_KEY) instead of e-mail/password; needs DIFY_WORKSPACE_ID."),
        new("DIFY_WORKSPACE_ID", [], null, false, GroupDify, "Workspace (tenant) UUID: required with DIFY_API_TOKEN; selects the workspace when the account belongs to several."),
        new("DIFY_CA_CERT_FILE", [], null, false, GroupDify, "PEM file of a CA to trust for Dify only (self-signed certificates)."),
        new("DIFY_TLS_INSECURE", [], "false", false, GroupDify, "true = skip certificate checks for Dify only (logged loudly at start). Prefer DIFY_CA_CERT_FILE."),
        new("USAGE_TIMEZONE", [], null, false, GroupDify, "IANA zone whose local dates are the usage days; default: the Dify account's time zone, else UTC."),
        new("DIFY_FETCH_TIMEOUT_MS", [], "30000", false, GroupDify, "Timeout of one Dify request in milliseconds (1000-300000)."),
        new("DIFY_FETCH_RETRY_COUNT", [], "3", false, GroupDify, "Retries of a Dify request on 429, 5xx, network errors and timeouts (0-10)."),
        new("DIFY_FETCH_RETRY_DELAY_MS", [], "1000", false, GroupDify, "Base delay of the exponential backoff between Dify retries, in milliseconds (100-60000)."),
        new("DIFY_FETCH_CONCURRENCY", [], "16", false, GroupDify, "Ceiling of Dify requests in flight (1-32): the exporter starts at 8 (or this value when lower), backs off on 429/5xx/timeouts/rising latency and grows again up to it."),
        new("DIFY_FETCH_PAGE_SIZE", [], "100", false, GroupDify, "Page size of Dify list calls (1-100; Dify rejects more than 100)."),
        new("DIFY_SETTLE_MINUTES", [], "60", false, GroupDify, "Overlap re-read before each app's watermark, for runs and messages Dify finishes late (0-10080)."),
        new("WATERMARK_ENABLED", [], "true", false, GroupDify, "false = re-read the whole window every cycle instead of incrementally."),
        // Window
        new("DIFY_FETCH_PERIOD", [], "current_month", false, GroupWindow, "today|yesterday|current_month|last_month|current_week|last_week|custom: the days each cycle exports."),
        new("DIFY_FETCH_START_DATE", [], null, false, GroupWindow, "First day (YYYY-MM-DD) when DIFY_FETCH_PERIOD=custom."),
        new("DIFY_FETCH_END_DATE", [], null, false, GroupWindow, "Last day (YYYY-MM-DD, inclusive) when DIFY_FETCH_PERIOD=custom."),
        new("DIFY_LOOKBACK_DAYS", [], "2", false, GroupWindow, "Days before the period that every cycle also re-exports, for late data across a month boundary (0-31)."),
        // API_Meter
        new("EXTERNAL_API_URL", [], null, false, GroupMeter, "Complete API_Meter endpoint URL; POSTed to exactly, no path appended. Required. HTTPS unless loopback or ALLOW_INSECURE_HTTP=true."),
        new("EXTERNAL_API_TOKEN", [], null, true, GroupMeter, "API_Meter Bearer token. Required."),
        new("API_METER_TENANT_ID", [], null, false, GroupMeter, "API_Meter tenant UUID. Required."),
        new("EXTERNAL_API_TIMEOUT_MS", [], "30000", false, GroupMeter, "Timeout of one API_Meter request in milliseconds (1000-300000)."),
        new("API_METER_BATCH_SIZE", ["BATCH_SIZE"], "500", false, GroupMeter, "Records per API_Meter request (1-500)."),
        new("ALLOW_INSECURE_HTTP", [], "false", false, GroupMeter, "true = allow plain-HTTP output URLs that are not loopback."),
        new("MAX_RETRY", ["MAX_RETRIES"], "3", false, GroupMeter, "Retries after the first attempt for API_Meter and other outputs (0-10; 3 = at most 4 attempts)."),
        new("MAX_SPOOL_RETRIES", [], "10", false, GroupMeter, "Cycles with an unexplained answer (a 2xx that does not confirm the records, an unexpected 4xx) after which a batch becomes a dead letter; outages, timeouts, 429 and 5xx never count (1-1000)."),
        // Outputs and notifications
        new("USAGE_REPORT_URL", [], null, false, GroupOutputs, "Optional generic usage-report endpoint (seed-era external API); empty = not sent."),
        new("DIFY_OUTPUT_MODE", [], "per_model", false, GroupOutputs, "per_app|workspace|both|per_user|per_model|all: what the usage report holds."),
        new("DIFY_AGGREGATION_PERIOD", [], "daily", false, GroupOutputs, "daily|weekly|monthly: periods of the usage report (weekly = ISO weeks)."),
        new("NOTIFY_WEBHOOK_URL", [], null, true, GroupOutputs, "Slack- or Discord-compatible webhook for failures, dead letters and recoveries; empty = off."),
        new("NOTIFY_MIN_INTERVAL_MINUTES", [], "15", false, GroupOutputs, "Minimum minutes between two notifications of the same kind (0-1440)."),
        // Daemon
        new("CRON_SCHEDULE", [], "0 0 * * *", false, GroupDaemon, "Standard 5-field cron expression (minute hour day month weekday) of the export cycle."),
        new("CRON_TIMEZONE", [], "UTC", false, GroupDaemon, "IANA zone CRON_SCHEDULE is evaluated in, e.g. Asia/Tokyo (DST-aware)."),
        new("RUN_ON_START", [], "missed", false, GroupDaemon, "missed|always|never: at daemon start, run one cycle at once if the latest scheduled firing passed without a successful cycle since (missed), always, or never."),
        new("LOG_LEVEL", [], "info", false, GroupDaemon, "error|warn|info|debug."),
        new("GRACEFUL_SHUTDOWN_TIMEOUT", [], "30", false, GroupDaemon, "Seconds a running cycle may take to finish after SIGTERM/SIGINT (1-3600)."),
        new("DATA_DIR", [], "./data", false, GroupDaemon, "State directory (SQLite store, lock); /app/data in the container."),
        new("STATE_DATABASE_URL", [], null, true, GroupDaemon, "PostgreSQL for the state (ledger, spool, watermarks, cycles) instead of the SQLite file in DATA_DIR, a postgres:// URI or an Npgsql connection string; lets several replicas share it (docs/state-postgres.md)."),
        new("HEALTHCHECK_ENABLED", [], "true", false, GroupDaemon, "Serve GET /health (and /metrics) while the daemon runs."),
        new("HEALTHCHECK_HOST", [], "127.0.0.1", false, GroupDaemon, "Address the health server binds to (0.0.0.0 in the container)."),
        new("HEALTHCHECK_PORT", [], "8080", false, GroupDaemon, "Port of the health server (1-65535; 0 = any free port, logged at start)."),
        new("ENV_FILE", [], ".env", false, GroupDaemon, "The .env file to read (environment variables take precedence)."),
        // Backups, retention and alerts
        new("BACKUP_SCHEDULE", [], "30 3 * * *", false, GroupMaintenance, "5-field cron expression (in CRON_TIMEZONE) of the daemon's daily maintenance: backup, backup and ledger retention, quick verify."),
        new("BACKUP_DIR", [], null, false, GroupMaintenance, "Directory of the daily backups and of `backup` without --to; default DATA_DIR/backups."),
        new("BACKUP_RETENTION_DAYS", [], "7", false, GroupMaintenance, "Days a backup is kept (1-3650); the newest backup is always kept."),
        new("LEDGER_RETENTION_DAYS", [], "400", false, GroupMaintenance, "Ledger events of days older than this are deleted once every key of the day is delivered; nothing pending or dead is touched (0 = keep forever, else 35-36500)."),
        new("ALERT_DAILY_COST", [], null, false, GroupMaintenance, "Notify NOTIFY_WEBHOOK_URL once when a local day's total cost reaches this amount (ledger currency, e.g. 50 or 12.5); empty = off."),
        new("ALERT_DAILY_TOKENS", [], null, false, GroupMaintenance, "Notify once when a local day's total tokens (input + output) reach this number; empty = off."),
        // Dashboard (Web/Dashboard*.cs)
        new("DASHBOARD_ENABLED", [], "false", false, GroupDashboard, "true = serve the usage dashboard (/) and API (/api/usage, /api/cycles) on the health server, behind HTTP Basic auth."),
        new("DASHBOARD_USER", [], null, false, GroupDashboard, "Basic-auth user name of the dashboard and API. Required when DASHBOARD_ENABLED=true."),
        new("DASHBOARD_PASSWORD", [], null, true, GroupDashboard, "Basic-auth password of the dashboard and API. Required when DASHBOARD_ENABLED=true."),
        // OpenTelemetry (Telemetry/OtlpTelemetry.cs); the standard OTEL_* names and meanings
        new("OTEL_EXPORTER_OTLP_ENDPOINT", [], null, false, GroupTelemetry, "OTLP collector base URL, e.g. http://otel-collector:4318; set = export metrics and cycle traces over OTLP; empty = off."),
        new("OTEL_EXPORTER_OTLP_PROTOCOL", [], "http/protobuf", false, GroupTelemetry, "http/protobuf (port 4318; /v1/traces and /v1/metrics are appended) or grpc (port 4317)."),
        new("OTEL_EXPORTER_OTLP_HEADERS", [], null, true, GroupTelemetry, "Headers sent with every OTLP request, key=value pairs separated by commas (values URL-encoded), e.g. Authorization=Bearer%20abc."),
        new("OTEL_SERVICE_NAME", [], "dify-usage-exporter", false, GroupTelemetry, "service.name of the exported telemetry (wins over service.name in OTEL_RESOURCE_ATTRIBUTES)."),
        new("OTEL_RESOURCE_ATTRIBUTES", [], null, false, GroupTelemetry, "Extra resource attributes, key=value pairs separated by commas, e.g. deployment.environment=prod,service.namespace=billing."),
        new("OTEL_METRIC_EXPORT_INTERVAL", [], "60000", false, GroupTelemetry, "Milliseconds between two OTLP metric exports (1000-3600000); traces go out in batches within seconds."),
        // Legacy
        new("NODE_ENV", [], null, false, GroupLegacy, "Accepted and ignored (a debug note is logged); kept so existing .env files work."),
        new("DIFY_FETCH_DAYS", [], null, false, GroupLegacy, "Accepted and ignored: the window comes from DIFY_FETCH_PERIOD and the per-app watermarks."),
        new("WATERMARK_FILE_PATH", [], null, false, GroupLegacy, "Accepted and ignored: watermarks live in the store under DATA_DIR."),
    ];

    private static readonly Dictionary<string, VariableSpec> ByAnyName = BuildIndex();

    /// <summary>Finds a spec by its canonical name or one of its aliases.</summary>
    public static VariableSpec? Find(string name) => ByAnyName.GetValueOrDefault(name);

    private static Dictionary<string, VariableSpec> BuildIndex()
    {
        var index = new Dictionary<string, VariableSpec>(StringComparer.Ordinal);
        foreach (var spec in All)
        {
            index[spec.Name] = spec;
            foreach (var alias in spec.Aliases)
            {
                index[alias] = spec;
            }
        }

        return index;
    }
}
