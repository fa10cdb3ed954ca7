using DifyUsageExporter.Configuration;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Configuration;

/// <summary>BACKUP_*, LEDGER_RETENTION_DAYS and ALERT_* are bound and validated like every other variable.</summary>
public class MaintenanceSettingsTests
{
    [Fact]
    public void Defaults_and_set_values_bind()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        var defaults = SettingsLoader.Inspect(ValidConfig.Variables(data), dir.Path).GetSettingsOrThrow();
        defaults.BackupSchedule.ShouldBe("30 3 * * *");
        defaults.BackupDirectory.ShouldBe(Path.Combine(data, "backups"));
        (defaults.BackupRetentionDays, defaults.LedgerRetentionDays).ShouldBe((7, 400));
        defaults.AlertDailyCost.ShouldBeNull();

        var env = ValidConfig.Variables(data);
        env["BACKUP_SCHEDULE"] = "0 4 * * 0";
        env["BACKUP_DIR"] = "/srv/backups";
        env["BACKUP_RETENTION_DAYS"] = "30";
        env["LEDGER_RETENTION_DAYS"] = "0";
        env["ALERT_DAILY_COST"] = "12.5";
        env["ALERT_DAILY_TOKENS"] = "2000000";
        env["NOTIFY_WEBHOOK_URL"] = "https://hooks.example.com/x";
        var settings = SettingsLoader.Inspect(env, dir.Path).GetSettingsOrThrow();

        (settings.BackupSchedule, settings.BackupDirectory, settings.BackupRetentionDays, settings.LedgerRetentionDays).ShouldBe(("0 4 * * 0", "/srv/backups", 30, 0));
        settings.AlertDailyCost.ShouldBe(12.5m);
        settings.AlertDailyTokens.ShouldBe(2_000_000L);
    }

    [Fact]
    public void Every_bad_value_is_named_with_the_accepted_form()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(Path.Combine(dir.Path, "data"));
        env["BACKUP_SCHEDULE"] = "every night";
        env["BACKUP_RETENTION_DAYS"] = "0";
        env["LEDGER_RETENTION_DAYS"] = "30";
        env["ALERT_DAILY_COST"] = "12,5";
        env["ALERT_DAILY_TOKENS"] = "1.5";

        var problems = SettingsLoader.Inspect(env, dir.Path).Problems;

        problems.ShouldContain(p => p.StartsWith("BACKUP_SCHEDULE: 'every night' has 2 fields instead of 5.", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("BACKUP_RETENTION_DAYS: 0 is out of range.", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("LEDGER_RETENTION_DAYS: 30 days would delete events", StringComparison.Ordinal) && p.Contains("0 (keep forever) or 35-36500"));
        problems.ShouldContain(p => p.StartsWith("ALERT_DAILY_COST: '12,5' is not a positive amount.", StringComparison.Ordinal) && p.Contains("e.g. 50 or 12.5"));
        problems.ShouldContain(p => p.StartsWith("ALERT_DAILY_TOKENS: '1.5' is not a positive whole number.", StringComparison.Ordinal));

        env["ALERT_DAILY_COST"] = "50";
        env.Remove("ALERT_DAILY_TOKENS");
        SettingsLoader.Inspect(env, dir.Path).Problems.ShouldContain(p => p.StartsWith("ALERT_DAILY_COST: is set but NOTIFY_WEBHOOK_URL is not", StringComparison.Ordinal));
    }
}
