using DifyUsageExporter.Configuration;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Web;
using Microsoft.Data.Sqlite;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>The daemon's maintenance loop: quick verify at start, daily backup at BACKUP_SCHEDULE in CRON_TIMEZONE, failures in /health.</summary>
public sealed class MaintenanceJobsTests
{
    [Fact]
    public async Task Verifies_at_start_backs_up_at_the_schedule_in_the_cron_zone_and_reports_a_violation_in_health()
    {
        using var dir = new TempDir();
        // 2026-03-09 18:00 UTC = 03:00 on 03-10 in Tokyo; "30 3 * * *" there fires at 18:30 UTC.
        var time = new FakeClock(new DateTimeOffset(2026, 3, 9, 18, 0, 0, TimeSpan.Zero));
        using var store = StateStore.Open(dir.Path, time);
        var settings = new ExporterSettings { DataDir = dir.Path, CronTimeZone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo"), BackupRetentionDays = 7 };
        var status = new CycleStatus { StartedAt = time.GetUtcNow() };
        var logs = new FakeLogs();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs.Provider));
        var jobs = new MaintenanceJobs(settings, store, status.Maintenance, time, loggers.CreateLogger<MaintenanceJobs>());
        using var stop = new CancellationTokenSource();

        var loop = jobs.RunScheduleAsync(stop.Token);
        await time.WaitForTimersAsync();
        status.Maintenance.VerifiedAt.ShouldBe(time.GetUtcNow());
        HealthReport.Build(status, store, CronSchedule.Parse("0 * * * *", TimeZoneInfo.Utc), time).Checks.Verify.ShouldBe("ok");
        logs.Lines.ShouldContain(l => l.Contains("Next maintenance (backup, retention, verify) at 2026-03-09T18:30:00.000Z"));
        Directory.Exists(Path.Combine(dir.Path, "backups")).ShouldBeFalse();

        // An event without its day row appears before the daily run: the quick verify reports it.
        using (var connection = new SqliteConnection($"Data Source={store.Path};Pooling=False"))
        {
            connection.Open();
            using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO usage_events VALUES ('e1', 's1', 'a', 'a', 'chat', 'u', 'end_user', '2026-03-09T10:00:00.000Z', '2026-03-09',
                    'openai', 'gpt-4o', 1, 1, '0.1', 'USD', '2026-03-09T10:00:00.000Z', '2026-03-09T10:00:00.000Z')
                """;
            insert.ExecuteNonQuery();
        }

        time.Advance(TimeSpan.FromMinutes(30));
        await time.WaitForTimersAsync();

        var backup = Directory.GetFiles(Path.Combine(dir.Path, "backups")).ShouldHaveSingleItem();
        Path.GetFileName(backup).ShouldBe("exporter-20260309T183000Z.db");
        status.Maintenance.LastBackupFile.ShouldBe(backup);
        var health = HealthReport.Build(status, store, CronSchedule.Parse("0 * * * *", TimeZoneInfo.Utc), time);
        health.Status.ShouldBe(HealthReport.Failing);
        health.Store.ShouldBe("inconsistent");
        health.Checks.Verify.ShouldBe("failed");
        health.Problem.ShouldNotBeNull().ShouldContain("ledger day 2026-03-09: 1 events but no day_extractions row");
        health.Checks.LastBackupFile.ShouldBe(backup);
        logs.Lines.ShouldContain(l => l.Contains("Next maintenance (backup, retention, verify) at 2026-03-10T18:30:00.000Z"));

        await stop.CancelAsync();
        await loop;
    }
    [Fact]
    public async Task A_yearly_backup_schedule_waits_past_the_49_day_delay_limit_and_fires_on_its_day()
    {
        using var dir = new TempDir();
        var time = new FakeClock(new DateTimeOffset(2026, 3, 9, 18, 0, 0, TimeSpan.Zero));
        using var store = StateStore.Open(dir.Path, time);
        var settings = new ExporterSettings { DataDir = dir.Path, CronTimeZone = TimeZoneInfo.Utc, BackupSchedule = "0 0 1 1 *", BackupRetentionDays = 7 };
        var status = new CycleStatus { StartedAt = time.GetUtcNow() };
        using var loggers = LoggerFactory.Create(_ => { });
        var jobs = new MaintenanceJobs(settings, store, status.Maintenance, time, loggers.CreateLogger<MaintenanceJobs>());
        using var stop = new CancellationTokenSource();

        var loop = jobs.RunScheduleAsync(stop.Token);
        await time.WaitForTimersAsync();
        loop.IsFaulted.ShouldBeFalse();

        // 2027-01-01T00:00Z is 297 days away: walk the clock there a week at a time, as a running
        // process would see it, and make sure nothing fires early and the loop never faults.
        var fireAt = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);
        while (time.GetUtcNow() < fireAt - TimeSpan.FromDays(7))
        {
            time.Advance(TimeSpan.FromDays(7));
            await time.WaitForTimersAsync();
        }

        loop.IsFaulted.ShouldBeFalse();
        Directory.Exists(Path.Combine(dir.Path, "backups")).ShouldBeFalse();
        time.Advance(fireAt - time.GetUtcNow());
        await time.WaitForTimersAsync();

        Path.GetFileName(Directory.GetFiles(Path.Combine(dir.Path, "backups")).ShouldHaveSingleItem()).ShouldBe("exporter-20270101T000000Z.db");
        await stop.CancelAsync();
        await loop;
    }
}
