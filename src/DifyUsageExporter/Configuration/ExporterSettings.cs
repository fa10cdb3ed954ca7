namespace DifyUsageExporter.Configuration;

/// <summary>
/// The validated, typed configuration of the exporter. Built by SettingsLoader from the
/// process environment and the .env file; every property maps to one variable of <see cref="VariableCatalog"/>.
/// Tests construct it directly.
/// </summary>
public sealed record ExporterSettings
{
    // --- Dify -------------------------------------------------------------------------------
    /// <summary>DIFY_SOURCE: the console API (default) or Dify's PostgreSQL (docs/database-source.md).</summary>
    public DifySource DifySource { get; init; } = DifySource.Console;
    /// <summary>DIFY_DATABASE_URL as an Npgsql connection string (holds the password: never log it).</summary>
    public string? DifyDatabaseConnectionString { get; init; }
    /// <summary>STATE_DATABASE_URL as an Npgsql connection string (holds the password: never log it); null = the SQLite file in DATA_DIR.</summary>
    public string? StateDatabaseConnectionString { get; init; }
    /// <summary>DIFY_TENANT_ID: the workspace to read from the database; null = the only one.</summary>
    public string? DifyTenantId { get; init; }
    /// <summary>DIFY_API_BASE_URL (alias DIFY_API_URL): Dify origin, without /console/api.</summary>
    public Uri? DifyBaseUrl { get; init; }
    public string? DifyEmail { get; init; }
    public string? DifyPassword { get; init; }
    public PasswordEncoding DifyPasswordEncoding { get; init; } = PasswordEncoding.Auto;
    /// <summary>DIFY_API_TOKEN: workspace admin key (ADMIN_API_KEY of the Dify deployment).</summary>
    public string? DifyApiToken { get; init; }
    public string? DifyWorkspaceId { get; init; }
    public string? DifyCaCertFile { get; init; }
    public bool DifyTlsInsecure { get; init; }
    /// <summary>USAGE_TIMEZONE: IANA zone for usage days; null = the Dify account's time zone.</summary>
    public TimeZoneInfo? UsageTimeZone { get; init; }
    public TimeSpan DifyFetchTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public int DifyFetchRetryCount { get; init; } = 3;
    public TimeSpan DifyFetchRetryDelay { get; init; } = TimeSpan.FromSeconds(1);
    public int DifyFetchConcurrency { get; init; } = 16;
    public int DifyFetchPageSize { get; init; } = 100;
    public TimeSpan DifySettle { get; init; } = TimeSpan.FromMinutes(60);
    public bool WatermarkEnabled { get; init; } = true;

    // --- Window -----------------------------------------------------------------------------
    public FetchPeriod FetchPeriod { get; init; } = FetchPeriod.CurrentMonth;
    public DateOnly? FetchStartDate { get; init; }
    public DateOnly? FetchEndDate { get; init; }
    public int LookbackDays { get; init; } = 2;

    // --- API_Meter --------------------------------------------------------------------------
    public Uri? ExternalApiUrl { get; init; }
    public string? ExternalApiToken { get; init; }
    public Guid? ApiMeterTenantId { get; init; }
    public TimeSpan ExternalApiTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public int ApiMeterBatchSize { get; init; } = 500;
    public bool AllowInsecureHttp { get; init; }
    /// <summary>MAX_RETRY (alias MAX_RETRIES): retries after the first attempt.</summary>
    public int MaxRetry { get; init; } = 3;
    public int MaxSpoolRetries { get; init; } = 10;

    // --- Other outputs and notifications ----------------------------------------------------
    public Uri? UsageReportUrl { get; init; }
    public OutputMode OutputMode { get; init; } = OutputMode.PerModel;
    public AggregationPeriod AggregationPeriod { get; init; } = AggregationPeriod.Daily;
    public Uri? NotifyWebhookUrl { get; init; }
    public TimeSpan NotifyMinInterval { get; init; } = TimeSpan.FromMinutes(15);

    // --- Daemon -----------------------------------------------------------------------------
    public string CronSchedule { get; init; } = "0 0 * * *";
    public TimeZoneInfo CronTimeZone { get; init; } = TimeZoneInfo.Utc;
    /// <summary>RUN_ON_START: whether the daemon runs a cycle at start (docs/operations.md, "Missed firings").</summary>
    public RunOnStart RunOnStart { get; init; } = RunOnStart.Missed;
    public LogLevelSetting LogLevel { get; init; } = LogLevelSetting.Info;
    public TimeSpan GracefulShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public string DataDir { get; init; } = "./data";
    public bool HealthcheckEnabled { get; init; } = true;
    public string HealthcheckHost { get; init; } = "127.0.0.1";
    public int HealthcheckPort { get; init; } = 8080;

    // --- Backups, retention and alerts -------------------------------------------------------
    /// <summary>BACKUP_SCHEDULE: cron expression (in CRON_TIMEZONE) of the daily maintenance.</summary>
    public string BackupSchedule { get; init; } = "30 3 * * *";
    /// <summary>BACKUP_DIR: null = DATA_DIR/backups.</summary>
    public string? BackupDir { get; init; }
    public int BackupRetentionDays { get; init; } = 7;
    /// <summary>LEDGER_RETENTION_DAYS: 0 = keep the ledger forever.</summary>
    public int LedgerRetentionDays { get; init; } = 400;
    public decimal? AlertDailyCost { get; init; }
    public long? AlertDailyTokens { get; init; }

    /// <summary>BACKUP_DIR, or DATA_DIR/backups.</summary>
    public string BackupDirectory => Path.GetFullPath(BackupDir ?? Path.Combine(DataDir, "backups"));

    // --- Dashboard and OpenTelemetry ----------------------------------------------------------
    public DashboardSettings Dashboard { get; init; } = new();
    public OtlpSettings Otlp { get; init; } = new();
}

public enum PasswordEncoding { Auto, Plain, Base64 }

/// <summary>DIFY_SOURCE: where usage is read from.</summary>
public enum DifySource { Console, Database }

public enum FetchPeriod { Today, Yesterday, CurrentMonth, LastMonth, CurrentWeek, LastWeek, Custom }

public enum OutputMode { PerApp, Workspace, Both, PerUser, PerModel, All }

public enum AggregationPeriod { Daily, Weekly, Monthly }

/// <summary>RUN_ON_START: missed = catch up a firing that passed without a successful cycle since.</summary>
public enum RunOnStart { Missed, Always, Never }

public enum LogLevelSetting { Error, Warn, Info, Debug }
