using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Metering;
using DifyUsageExporter.Storage;

namespace DifyUsageExporter.Cli;

/// <summary>
/// <c>check [--dify] [--api-meter] [--json]</c>: <c>--dify</c> (the default) connects to Dify,
/// detects its version and auth era, logs in, reads the profile and counts apps; <c>--api-meter</c>
/// checks that API_Meter is reachable and accepts the token without writing usage data (see
/// <see cref="ApiMeterDiagnostics"/>). Prints a diagnosis with the likely fix on failure.
/// Exit 0 when every requested check passes, 1 otherwise.
/// </summary>
public static partial class CheckCommand
{
    public static Command Create(CommandEnvironment env)
    {
        var dify = new Option<bool>("--dify") { Description = "Check the Dify connection and login (the default when no other check is named)." };
        var apiMeter = new Option<bool>("--api-meter") { Description = "Check that API_Meter is reachable and accepts EXTERNAL_API_TOKEN (writes no usage data)." };
        var database = new Option<bool>("--database") { Description = "Check Dify's PostgreSQL (DIFY_SOURCE=database): connection, grants, schema, workspace, storage backend (the default with DIFY_SOURCE=database)." };
        var json = CliOutput.JsonOption("Print the result as JSON.");
        var command = new Command("check", "Check the connection to Dify (console or database) and/or to API_Meter.");
        command.Options.Add(dify);
        command.Options.Add(apiMeter);
        command.Options.Add(database);
        command.Options.Add(json);
        command.SetAction((parse, ct) =>
        {
            var checkMeter = parse.GetValue(apiMeter);
            var checkDatabase = parse.GetValue(database);
            var none = !checkMeter && !checkDatabase && !parse.GetValue(dify);
            return RunAsync(env, parse.GetValue(json), parse.GetValue(dify), checkMeter, checkDatabase, none, ct);
        });
        return command;
    }

    /// <summary>Runs the Dify check and prints it; returns the exit code.</summary>
    public static Task<int> RunAsync(CommandEnvironment env, bool json, CancellationToken cancellationToken) =>
        RunAsync(env, json, dify: true, apiMeter: false, cancellationToken);

    /// <summary>Runs the requested checks and prints them; returns 0 when all pass.</summary>
    public static Task<int> RunAsync(CommandEnvironment env, bool json, bool dify, bool apiMeter, CancellationToken cancellationToken) =>
        RunAsync(env, json, dify, apiMeter, database: false, defaults: false, cancellationToken);

    /// <summary>
    /// Runs the requested checks; with none named (<paramref name="defaults"/>) the Dify check of the configured
    /// source: the console, or the database with DIFY_SOURCE=database.
    /// </summary>
    public static async Task<int> RunAsync(CommandEnvironment env, bool json, bool dify, bool apiMeter, bool database, bool defaults, CancellationToken cancellationToken)
    {
        ExporterSettings settings;
        try
        {
            settings = env.LoadSettings();
        }
        catch (ConfigurationException ex)
        {
            var result = new DifyCheckResult { Failure = DifyCheckFailure.Configuration, Message = env.Secrets.Mask(ex.Message), Fix = "Fix the variables listed above." };
            Print(env, result, json);
            return ExitCodes.Failure;
        }

        if (defaults)
        {
            (dify, database) = settings.DifySource == DifySource.Database ? (false, true) : (true, false);
        }

        var databaseResult = database ? await Dify.Database.DatabaseDiagnostics.CheckAsync(settings, env.Time, cancellationToken).ConfigureAwait(false) : null;
        if (databaseResult is not null)
        {
            PrintDatabase(env, databaseResult, json && !dify && !apiMeter);
            if (!dify && !apiMeter)
            {
                return databaseResult.Ok ? ExitCodes.Success : ExitCodes.Failure;
            }
        }

        using var loggerFactory = env.CreateLoggerFactory(settings, env.Error);
        using var store = dify ? TryOpenStore(settings, env) : null;
        var guard = store is null ? null : new DifyLoginGuard(store, env.Time) { Bypass = true };
        var difyResult = dify ? await DifyDiagnostics.CheckAsync(settings, env.Secrets, loggerFactory, env.Time, guard, null, cancellationToken).ConfigureAwait(false) : null;
        var meterResult = apiMeter ? await ApiMeterDiagnostics.CheckAsync(settings, env.Time, env.Secrets, cancellationToken).ConfigureAwait(false) : null;
        Print(env, difyResult, meterResult, json);
        return (difyResult?.Ok ?? true) && (meterResult?.Ok ?? true) && (databaseResult?.Ok ?? true) ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>
    /// The state store, so a successful check lifts a remembered credential rejection (and a failed
    /// one is remembered). The check works without it (no DATA_DIR yet, read-only volume).
    /// </summary>
    private static StateStore? TryOpenStore(ExporterSettings settings, CommandEnvironment env)
    {
        try
        {
            return StateStore.Open(settings, env.Time);
        }
        catch (Exception ex) when (ex is StoreException or IOException or UnauthorizedAccessException or System.Data.Common.DbException)
        {
            return null;
        }
    }

    /// <summary>Writes the Dify result as text or JSON to <see cref="CommandEnvironment.Out"/> (masked).</summary>
    public static void Print(CommandEnvironment env, DifyCheckResult result, bool json) => Print(env, result, null, json);

    /// <summary>Writes the results of the checks that ran, as text or one JSON object (masked).</summary>
    public static void Print(CommandEnvironment env, DifyCheckResult? dify, ApiMeterCheckResult? apiMeter, bool json)
    {
        if (json)
        {
            env.Out.WriteLine(env.Secrets.Mask(ToJson(dify, apiMeter)));
            return;
        }

        if (dify is not null)
        {
            PrintText(env, dify);
        }

        if (apiMeter is not null)
        {
            env.Out.WriteLine(env.Secrets.Mask(apiMeter.Ok ? "API_Meter: OK" : "API_Meter: FAILED"));
            env.Out.WriteLine(env.Secrets.Mask($"  {apiMeter.Message}"));
        }
    }

    private static void PrintText(CommandEnvironment env, DifyCheckResult result)
    {
        var lines = new List<string>();
        if (result.Ok)
        {
            lines.Add("Dify: OK");
        }
        else
        {
            lines.Add($"Dify: FAILED ({result.FailureClass})");
            lines.Add($"  Problem:  {result.Message}");
            lines.Add($"  Fix:      {result.Fix}");
        }

        if (result.BaseUrl is not null)
        {
            lines.Add($"  URL:      {result.BaseUrl}");
        }

        if (result.Version is not null || result.Era is not null)
        {
            lines.Add($"  Version:  {result.Version ?? "unknown"}{(result.Era is null ? string.Empty : $" ({result.Era} session, password {result.PasswordEncoding})")}");
        }

        if (result.CookieNames.Count > 0)
        {
            lines.Add($"  Cookies:  {string.Join(", ", result.CookieNames)}");
        }

        if (result.AccountEmail is not null || result.AccountTimeZone is not null)
        {
            lines.Add($"  Account:  {result.AccountEmail} (time zone {result.AccountTimeZone ?? "not set: UTC"})");
        }

        if (result.AppCount is { } count)
        {
            lines.Add($"  Apps:     {count}{(count == 0 ? string.Empty : " (" + string.Join(", ", result.AppsByMode.Select(m => $"{m.Key} {m.Value}")) + ")")}");
            lines.Add($"  Agent apps: {(result.AgentApps is { } agents ? agents.ToString(CultureInfo.InvariantCulture) : "none (this Dify has no agent API)")}; knowledge pipelines: {result.KnowledgePipelines ?? 0}");
            lines.AddRange(result.NoUsageApps.Select(a => $"  No usage: {a} carries no usage (no Dify generator handles this mode)"));
            lines.AddRange(result.UnknownModeApps.Select(a => $"  WARNING: {a} has a mode this exporter does not know: it will not be counted"));
        }

        foreach (var line in lines)
        {
            env.Out.WriteLine(env.Secrets.Mask(line));
        }
    }

    private static string ToJson(DifyCheckResult? dify, ApiMeterCheckResult? apiMeter)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            if (dify is not null)
            {
                WriteDify(w, dify);
            }

            if (apiMeter is not null)
            {
                w.WriteStartObject("api_meter");
                w.WriteBoolean("ok", apiMeter.Ok);
                w.WriteBoolean("reachable", apiMeter.Reachable);
                if (apiMeter.TokenAccepted is { } accepted)
                {
                    w.WriteBoolean("token_accepted", accepted);
                }
                else
                {
                    w.WriteNull("token_accepted");
                }

                if (apiMeter.Status is { } status)
                {
                    w.WriteNumber("status", status);
                }
                else
                {
                    w.WriteNull("status");
                }

                w.WriteString("message", apiMeter.Message);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteDify(Utf8JsonWriter w, DifyCheckResult result)
    {
        {
            w.WriteStartObject("dify");
            w.WriteBoolean("ok", result.Ok);
            w.WriteString("failure", result.FailureClass);
            w.WriteString("message", result.Message);
            w.WriteString("fix", result.Fix);
            w.WriteString("url", result.BaseUrl);
            w.WriteString("version", result.Version);
            w.WriteString("auth", result.Era);
            w.WriteString("password_encoding", result.PasswordEncoding);
            w.WriteStartArray("cookies");
            foreach (var name in result.CookieNames)
            {
                w.WriteStringValue(name);
            }

            w.WriteEndArray();
            w.WriteString("account", result.AccountEmail);
            w.WriteString("timezone", result.AccountTimeZone);
            if (result.AppCount is { } count)
            {
                w.WriteNumber("apps", count);
            }
            else
            {
                w.WriteNull("apps");
            }

            w.WriteStartObject("apps_by_mode");
            foreach (var (mode, n) in result.AppsByMode)
            {
                w.WriteNumber(mode, n);
            }

            w.WriteEndObject();
            WriteList(w, "no_usage_apps", result.NoUsageApps);
            WriteList(w, "unknown_mode_apps", result.UnknownModeApps);
            if (result.AgentApps is { } agents)
            {
                w.WriteNumber("agent_apps", agents);
            }
            else
            {
                w.WriteNull("agent_apps");
            }

            w.WriteNumber("knowledge_pipelines", result.KnowledgePipelines ?? 0);
            w.WriteEndObject();
        }
    }

    private static void WriteList(Utf8JsonWriter w, string name, IEnumerable<string> items)
    {
        w.WriteStartArray(name);
        foreach (var item in items)
        {
            w.WriteStringValue(item);
        }

        w.WriteEndArray();
    }
}
