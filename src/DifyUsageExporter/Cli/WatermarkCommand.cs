using System.CommandLine;
using System.Globalization;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Cli;

/// <summary>
/// <c>watermark show</c> and <c>watermark reset --app &lt;id|all&gt; --date YYYY-MM-DD [--yes]</c>: moves the
/// extraction watermarks back to that day's 00:00 in USAGE_TIMEZONE (UTC when unset), so the next
/// cycle re-reads from there. Watermarks already earlier are left alone.
/// </summary>
public static class WatermarkCommand
{
    public static Command Create(CommandEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var command = new Command("watermark", "Show or move back the per-app extraction watermarks.");
        command.Subcommands.Add(Show(env));
        command.Subcommands.Add(Reset(env));
        return command;
    }

    private static Command Show(CommandEnvironment env)
    {
        var json = CliOutput.JsonOption();
        var command = new Command("show", "List each app's watermark.") { json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = env.LoadSettings();
            using var store = CommandStore.OpenForReading(env, settings);
            var marks = await store.ReadWatermarksAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                CliOutput.WriteJson(env, w =>
                {
                    w.WriteStartArray();
                    foreach (var m in marks)
                    {
                        w.WriteStartObject();
                        w.WriteString("app_id", m.AppId);
                        w.WriteString("app_name", m.AppName);
                        w.WriteString("watermark", StateStore.Format(m.Watermark));
                        w.WriteString("updated_at", StateStore.Format(m.UpdatedAt));
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                });
                return ExitCodes.Success;
            }

            if (marks.Count == 0)
            {
                await env.Out.WriteLineAsync("No watermarks yet (the next cycle reads the whole window).").ConfigureAwait(false);
                return ExitCodes.Success;
            }

            var table = new CliTable(new("APP_ID"), new("APP_NAME"), new("WATERMARK"), new("UPDATED_AT"));
            foreach (var m in marks)
            {
                table.Add(m.AppId, m.AppName, StateStore.Format(m.Watermark), StateStore.Format(m.UpdatedAt));
            }

            CliOutput.WriteTable(env, table);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Reset(CommandEnvironment env)
    {
        var app = new Option<string>("--app") { Description = "An app id, or all.", Required = true };
        var date = new Option<string>("--date") { Description = "Re-read from this usage day (YYYY-MM-DD).", Required = true };
        var yes = new Option<bool>("--yes") { Description = "Do not ask for confirmation." };
        var command = new Command("reset", "Move watermarks back so the next cycle re-reads from a day (asks for confirmation).");
        command.Options.Add(app);
        command.Options.Add(date);
        command.Options.Add(yes);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var day = CliArguments.ParseDay(parse.GetValue(date)!, "--date");
            var appId = parse.GetValue(app)!;
            var settings = env.LoadSettings();
            var zone = settings.UsageTimeZone ?? TimeZoneInfo.Utc;
            var instant = UsageTime.StartOfDay(day, zone);
            if (settings.UsageTimeZone is null)
            {
                // Without USAGE_TIMEZONE the usage zone is the Dify account's, unknown here: go back to the
                // earliest midnight of that date on Earth (UTC+14), so no hour of the day is skipped.
                // Re-reading a few extra hours is harmless: the ledger upserts by Dify id.
                instant = instant.AddHours(-14);
            }
            using var store = CommandStore.Open(env, settings);
            using var cycleLock = CommandLock.Acquire(store, "watermark reset");
            var all = string.Equals(appId, "all", StringComparison.OrdinalIgnoreCase);
            var marks = await store.ReadWatermarksAsync(cancellationToken).ConfigureAwait(false);
            if (!all && !marks.Any(m => m.AppId == appId))
            {
                throw new CliException($"No watermark for app '{appId}' (see `watermark show`).");
            }

            var target = all ? "all apps" : $"app {appId}";
            if (!await Confirmation.AskAsync(env, $"Move the watermark of {target} back to {StateStore.Format(instant)} ({(settings.UsageTimeZone is null ? $"the earliest start of {Iso.Day(day)} in any time zone" : $"{Iso.Day(day)} 00:00 {zone.Id}")})? The next cycle re-reads from there.", parse.GetValue(yes)).ConfigureAwait(false))
            {
                await env.Out.WriteLineAsync("Not reset.").ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            var changed = await store.ResetWatermarksAsync(all ? null : appId, instant, cancellationToken).ConfigureAwait(false);
            await env.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Reset {changed} watermark(s) to {StateStore.Format(instant)}.")).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }
}
