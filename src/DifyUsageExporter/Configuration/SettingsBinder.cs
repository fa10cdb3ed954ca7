namespace DifyUsageExporter.Configuration;

/// <summary>Maps every catalog variable to its <see cref="ExporterSettings"/> property, recording problems in the reader.</summary>
internal static class SettingsBinder
{
    private const string ConsoleApiSuffix = "/console/api";

    public static ExporterSettings Bind(VariableReader r, string workingDirectory, List<string> warnings)
    {
        var cronZone = r.Zone("CRON_TIMEZONE") ?? TimeZoneInfo.Utc;
        var source = r.Enum("DIFY_SOURCE", DifySource.Console);
        var settings = new ExporterSettings
        {
            DifySource = source,
            DifyDatabaseConnectionString = DatabaseConnection(r, source),
            StateDatabaseConnectionString = StateDatabase(r),
            DifyTenantId = r.Uuid("DIFY_TENANT_ID", required: false)?.ToString(),
            DifyBaseUrl = DifyOrigin(r, warnings, required: source == DifySource.Console),
            DifyEmail = r.Email("DIFY_EMAIL"),
            DifyPassword = r.Text("DIFY_PASSWORD"),
            DifyPasswordEncoding = r.Enum("DIFY_PASSWORD_ENCODING", PasswordEncoding.Auto),
            DifyApiToken = r.Text("DIFY_API_TOKEN"),
            DifyWorkspaceId = r.Uuid("DIFY_WORKSPACE_ID", required: false)?.ToString(),
            DifyCaCertFile = CaCertFile(r, workingDirectory),
            DifyTlsInsecure = r.Bool("DIFY_TLS_INSECURE", false),
            UsageTimeZone = r.Zone("USAGE_TIMEZONE"),
            DifyFetchTimeout = TimeSpan.FromMilliseconds(r.Int("DIFY_FETCH_TIMEOUT_MS", 1000, 300_000, 30_000)),
            DifyFetchRetryCount = r.Int("DIFY_FETCH_RETRY_COUNT", 0, 10, 3),
            DifyFetchRetryDelay = TimeSpan.FromMilliseconds(r.Int("DIFY_FETCH_RETRY_DELAY_MS", 100, 60_000, 1000)),
            DifyFetchConcurrency = r.Int("DIFY_FETCH_CONCURRENCY", 1, 32, 16),
            DifyFetchPageSize = r.Int("DIFY_FETCH_PAGE_SIZE", 1, 100, 100),
            DifySettle = TimeSpan.FromMinutes(r.Int("DIFY_SETTLE_MINUTES", 0, 10_080, 60)),
            WatermarkEnabled = r.Bool("WATERMARK_ENABLED", true),
            FetchPeriod = r.Enum("DIFY_FETCH_PERIOD", FetchPeriod.CurrentMonth),
            FetchStartDate = r.Date("DIFY_FETCH_START_DATE"),
            FetchEndDate = r.Date("DIFY_FETCH_END_DATE"),
            LookbackDays = r.Int("DIFY_LOOKBACK_DAYS", 0, 31, 2),
            ExternalApiUrl = OutputUrl(r, "EXTERNAL_API_URL", required: true),
            ExternalApiToken = r.Required("EXTERNAL_API_TOKEN", "the Bearer token issued by API_Meter."),
            ApiMeterTenantId = r.Uuid("API_METER_TENANT_ID", required: true),
            ExternalApiTimeout = TimeSpan.FromMilliseconds(r.Int("EXTERNAL_API_TIMEOUT_MS", 1000, 300_000, 30_000)),
            ApiMeterBatchSize = r.Int("API_METER_BATCH_SIZE", 1, 500, 500),
            AllowInsecureHttp = r.Bool("ALLOW_INSECURE_HTTP", false),
            MaxRetry = r.Int("MAX_RETRY", 0, 10, 3),
            MaxSpoolRetries = r.Int("MAX_SPOOL_RETRIES", 1, 1000, 10),
            UsageReportUrl = OutputUrl(r, "USAGE_REPORT_URL", required: false),
            OutputMode = r.Enum("DIFY_OUTPUT_MODE", OutputMode.PerModel),
            AggregationPeriod = r.Enum("DIFY_AGGREGATION_PERIOD", AggregationPeriod.Daily),
            NotifyWebhookUrl = r.Url("NOTIFY_WEBHOOK_URL", required: false),
            NotifyMinInterval = TimeSpan.FromMinutes(r.Int("NOTIFY_MIN_INTERVAL_MINUTES", 0, 1440, 15)),
            CronSchedule = Cron(r, cronZone),
            CronTimeZone = cronZone,
            RunOnStart = r.Enum("RUN_ON_START", RunOnStart.Missed),
            LogLevel = r.Enum("LOG_LEVEL", LogLevelSetting.Info),
            GracefulShutdownTimeout = TimeSpan.FromSeconds(r.Int("GRACEFUL_SHUTDOWN_TIMEOUT", 1, 3600, 30)),
            DataDir = r.Text("DATA_DIR") ?? "./data",
            HealthcheckEnabled = r.Bool("HEALTHCHECK_ENABLED", true),
            HealthcheckHost = HealthHost(r),
            HealthcheckPort = r.Int("HEALTHCHECK_PORT", 0, 65_535, 8080),
            BackupSchedule = Cron(r, "BACKUP_SCHEDULE", "30 3 * * *", cronZone),
            BackupDir = r.Text("BACKUP_DIR"),
            BackupRetentionDays = r.Int("BACKUP_RETENTION_DAYS", 1, 3650, 7),
            LedgerRetentionDays = LedgerRetention(r),
            AlertDailyCost = MaintenanceSettings.Threshold(r, "ALERT_DAILY_COST", "a positive amount in the ledger's currency with '.' as decimal point, e.g. 50 or 12.5."),
            AlertDailyTokens = (long?)MaintenanceSettings.Threshold(r, "ALERT_DAILY_TOKENS", "a positive whole number of tokens, e.g. 2000000.", wholeNumber: true),
            Dashboard = ObservabilityBinder.Dashboard(r),
            Otlp = ObservabilityBinder.Otlp(r),
        };
        CrossFieldRules.Check(r, settings);
        ObservabilityBinder.Check(r, settings, warnings);
        return settings;
    }

    private static string? DatabaseConnection(VariableReader r, DifySource source)
    {
        var text = source == DifySource.Database
            ? r.Required("DIFY_DATABASE_URL", DatabaseUrl.Accepted, "is required with DIFY_SOURCE=database but not set (nor DIFY_DATABASE_URL_FILE).")
            : r.Text("DIFY_DATABASE_URL");
        if (text is null)
        {
            return null;
        }

        var (connectionString, problem) = DatabaseUrl.Parse(text);
        if (problem is not null)
        {
            r.Problem("DIFY_DATABASE_URL", "the value " + problem, DatabaseUrl.Accepted);
        }

        return connectionString;
    }

    private static string? StateDatabase(VariableReader r)
    {
        const string Accepted = "postgres://user:password@host:5432/exporter_state (optionally ?sslmode=require), or an Npgsql connection string such as Host=db;Port=5432;Username=exporter;Password=...;Database=exporter_state; or unset for the SQLite file in DATA_DIR.";
        var text = r.Text("STATE_DATABASE_URL");
        if (text is null)
        {
            return null;
        }

        if (text.TrimStart().StartsWith("mysql", StringComparison.OrdinalIgnoreCase) || text.TrimStart().StartsWith("mariadb", StringComparison.OrdinalIgnoreCase))
        {
            r.Problem("STATE_DATABASE_URL", "is a MySQL-family URL: the shared state store is PostgreSQL only (docs/state-postgres.md).", Accepted);
            return null;
        }

        var (connectionString, problem) = DatabaseUrl.Parse(text);
        if (problem is not null)
        {
            r.Problem("STATE_DATABASE_URL", "the value " + problem, Accepted);
        }

        return connectionString;
    }

    private static Uri? DifyOrigin(VariableReader r, List<string> warnings, bool required)
    {
        var url = r.Url("DIFY_API_BASE_URL", required);
        if (url is not null && url.AbsolutePath.TrimEnd('/').EndsWith(ConsoleApiSuffix, StringComparison.OrdinalIgnoreCase))
        {
            var origin = url.GetLeftPart(UriPartial.Authority) + url.AbsolutePath.TrimEnd('/')[..^ConsoleApiSuffix.Length];
            warnings.Add($"DIFY_API_BASE_URL ends with {ConsoleApiSuffix}; it is the Dify origin, so {ConsoleApiSuffix} was removed ({origin}).");
            return new Uri(origin.TrimEnd('/') + "/");
        }

        return url;
    }

    private static Uri? OutputUrl(VariableReader r, string name, bool required)
    {
        var url = r.Url(name, required);
        if (url is not null && url.Scheme == Uri.UriSchemeHttp && !VariableReader.IsLoopback(url) && !r.Bool("ALLOW_INSECURE_HTTP", false))
        {
            r.Problem(name, "uses plain http to a host that is not loopback, which would send the token in clear text.", "an https:// URL; http:// only for localhost/127.0.0.1/::1 or with ALLOW_INSECURE_HTTP=true.");
        }

        return url;
    }

    private static string? CaCertFile(VariableReader r, string workingDirectory)
    {
        var path = r.Text("DIFY_CA_CERT_FILE");
        if (path is not null && !File.Exists(Path.GetFullPath(path, workingDirectory)))
        {
            r.Problem("DIFY_CA_CERT_FILE", $"the file '{path}' does not exist.", "the path of a readable PEM file with the CA certificate.");
        }

        return path is null ? null : Path.GetFullPath(path, workingDirectory);
    }

    private static string Cron(VariableReader r, TimeZoneInfo zone) => Cron(r, "CRON_SCHEDULE", "0 0 * * *", zone);

    private static string Cron(VariableReader r, string name, string fallback, TimeZoneInfo zone)
    {
        var text = r.Text(name) ?? fallback;
        if (!CronSchedule.TryParse(text, zone, out _, out var reason))
        {
            r.Problem(name, $"{r.Show(name)} {reason}", CronSchedule.AcceptedForm);
        }

        return text;
    }

    private static int LedgerRetention(VariableReader r)
    {
        var days = r.Int("LEDGER_RETENTION_DAYS", 0, 36_500, 400);
        if (days is > 0 and < 35)
        {
            r.Problem("LEDGER_RETENTION_DAYS", $"{days} days would delete events of days the current-month window still re-reads.", "0 (keep forever) or 35-36500.");
            return 400;
        }

        return days;
    }

    private static string HealthHost(VariableReader r)
    {
        var host = r.Text("HEALTHCHECK_HOST") ?? "127.0.0.1";
        if (host.Any(char.IsWhiteSpace) || host.Contains('/', StringComparison.Ordinal))
        {
            r.Problem("HEALTHCHECK_HOST", $"{r.Show("HEALTHCHECK_HOST")} is not a host name or address.", "an IP address such as 127.0.0.1 or 0.0.0.0, or a host name.");
        }

        return host;
    }
}
