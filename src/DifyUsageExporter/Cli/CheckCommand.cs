using System.CommandLine;
using System.Text.Json;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;

namespace DifyUsageExporter.Cli;

/// <summary>
/// <c>check [--dify] [--json]</c>: connects to Dify, detects its version and auth era, logs in,
/// reads the profile and counts apps; prints a diagnosis with the likely fix on failure.
/// Exit 0 when every requested check passes, 1 otherwise.
/// </summary>
public static class CheckCommand
{
    public static Command Create(CommandEnvironment env)
    {
        var dify = new Option<bool>("--dify") { Description = "Check the Dify connection and login (the default when no other check is named)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("check", "Check the connection to Dify: version, login, profile, apps.");
        command.Options.Add(dify);
        command.Options.Add(json);
        command.SetAction((parse, ct) => RunAsync(env, parse.GetValue(json), ct));
        return command;
    }

    /// <summary>Runs the Dify check and prints it; returns the exit code.</summary>
    public static async Task<int> RunAsync(CommandEnvironment env, bool json, CancellationToken cancellationToken)
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

        using var loggerFactory = env.CreateLoggerFactory(settings, env.Error);
        var check = await DifyDiagnostics.CheckAsync(settings, env.Secrets, loggerFactory, env.Time, null, cancellationToken).ConfigureAwait(false);
        Print(env, check, json);
        return check.Ok ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>Writes the result as text or JSON to <see cref="CommandEnvironment.Out"/> (masked).</summary>
    public static void Print(CommandEnvironment env, DifyCheckResult result, bool json)
    {
        if (json)
        {
            env.Out.WriteLine(env.Secrets.Mask(ToJson(result)));
            return;
        }

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
        }

        foreach (var line in lines)
        {
            env.Out.WriteLine(env.Secrets.Mask(line));
        }
    }

    private static string ToJson(DifyCheckResult result)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
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
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
