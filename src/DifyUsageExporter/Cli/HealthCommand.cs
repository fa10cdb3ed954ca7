using System.CommandLine;
using System.Globalization;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Telemetry;

namespace DifyUsageExporter.Cli;

/// <summary>
/// <c>health</c>: probes the running daemon's GET /health and exits 0 when it answers 200 (ok or
/// degraded), 1 when it answers 503 (failing) or does not answer.
/// The container's HEALTHCHECK (the runtime image has no curl or wget). Needs only
/// HEALTHCHECK_HOST/HEALTHCHECK_PORT, so it works without a complete configuration.
/// </summary>
public static class HealthCommand
{
    public static Command Create(CommandEnvironment env)
    {
        var url = new Option<string?>("--url") { Description = "Probe this URL instead of http://HEALTHCHECK_HOST:HEALTHCHECK_PORT/health." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the answer.", DefaultValueFactory = _ => 5 };
        var command = new Command("health", "Probe the daemon's /health endpoint; exit 0 when ok or degraded, 1 when failing or not answering.") { url, timeout };
        command.SetAction((parse, cancellationToken) =>
        {
            var explicitUrl = ParseUrl(parse.GetValue(url));
            if (explicitUrl is null && env.InspectConfiguration()["HEALTHCHECK_ENABLED"].Value?.Trim().ToLowerInvariant() is "false" or "0" or "no" or "off")
            {
                throw new CliException("unhealthy: the health server is disabled (HEALTHCHECK_ENABLED=false), so there is nothing to probe.");
            }

            return ProbeAsync(env, explicitUrl ?? DefaultUrl(env), TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(timeout))), cancellationToken);
        });
        return command;
    }

    private static Uri? ParseUrl(string? text) =>
        text is null ? null
        : Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri
        : throw new CliException($"--url '{text}' is not an absolute URL, e.g. http://127.0.0.1:8080/health.", ExitCodes.Usage);

    public static Uri DefaultUrl(CommandEnvironment env)
    {
        var snapshot = env.InspectConfiguration();
        var host = snapshot["HEALTHCHECK_HOST"].Value?.Trim() ?? "127.0.0.1";
        host = host switch
        {
            "0.0.0.0" or "" => "127.0.0.1",
            "::" or "[::]" => "[::1]",
            _ when host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') => $"[{host}]",
            _ => host,
        };
        var port = int.TryParse(snapshot["HEALTHCHECK_PORT"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 8080;
        return new Uri($"http://{host}:{port}/health");
    }

    private static async Task<int> ProbeAsync(CommandEnvironment env, Uri url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var masker = new LogMasker(env.Secrets);
        using var client = new HttpClient { Timeout = timeout };
        try
        {
            using var response = await client.GetAsync(url, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                env.Out.WriteLine(masker.Apply(body));
                return ExitCodes.Success;
            }

            env.Error.WriteLine(masker.Apply($"unhealthy: {url} answered {(int)response.StatusCode}: {body}"));
            return ExitCodes.Failure;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // No daemon listening (or too slow): that is the "unhealthy" answer, not a crash.
            env.Error.WriteLine(masker.Apply($"unhealthy: no answer from {url} ({ex.Message})"));
            return ExitCodes.Failure;
        }
    }
}
