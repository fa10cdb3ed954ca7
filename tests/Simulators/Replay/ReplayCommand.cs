using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Simulators.Replay;

/// <summary>
/// <c>replay</c>: logs in to a (simulated) Dify console, then sends exactly the given GET requests with
/// N in flight, parsing each answer as JSON and doing nothing else. Its wall time and CPU are what any
/// client needs for those requests on this machine, so the benchmark can tell the exporter's own
/// cost from the machine's and the simulator's (benchmarks/README.md, issue 12 targets 2 and 3).
/// </summary>
public static class ReplayCommand
{
    public const string Usage = """
        replay --url http://127.0.0.1:5001 --requests FILE [--concurrency 16] [--warmup 0|1] [--email E] [--password P]
        FILE: one path and query per line, as GET /_sim/requests lists them (simulator started with
        --record-requests). Prints one JSON line: requests, failed (401, 403, 5xx), client_errors (other
        4xx, e.g. an API an older Dify lacks, as the recorded run saw them), wall_s and cpu_s (both from the
        first request to the last answer; login and start-up excluded). --warmup 1: one untimed pass first,
        then POST /_sim/reset, so the timed pass runs compiled code and the simulator's counters cover it
        alone. Exit 1 when any request failed.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var a = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            a[args[i].TrimStart('-')] = args[i + 1];
        }

        if (args.Length % 2 != 0 || !a.TryGetValue("url", out var url) || !a.TryGetValue("requests", out var file))
        {
            await output.WriteLineAsync("replay: --url and --requests are required" + Environment.NewLine + Usage).ConfigureAwait(false);
            return 2;
        }

        var concurrency = int.Parse(a.GetValueOrDefault("concurrency", "16"), CultureInfo.InvariantCulture);
        var paths = (await File.ReadAllLinesAsync(file).ConfigureAwait(false)).Where(l => l.Length > 0).ToArray();
        var cookies = new CookieContainer();
        using var handler = new SocketsHttpHandler { CookieContainer = cookies, MaxConnectionsPerServer = concurrency };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(url) };
        if (await LoginAsync(http, cookies, a.GetValueOrDefault("email", "ops@example.com"), a.GetValueOrDefault("password", "Sim-Password-1!")).ConfigureAwait(false) is { } problem)
        {
            await output.WriteLineAsync("replay: login failed: " + problem).ConfigureAwait(false);
            return 1;
        }

        if (a.GetValueOrDefault("warmup", "0") == "1")
        {
            // The simulators run on the JIT: without a warm-up the first pass's CPU is mostly compilation.
            await PassAsync(http, paths, concurrency).ConfigureAwait(false);
            using var reset = await http.PostAsync(new Uri("_sim/reset", UriKind.Relative), null).ConfigureAwait(false);
        }

        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        var (failed, clientErrors) = await PassAsync(http, paths, concurrency).ConfigureAwait(false);
        var wall = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{{\"requests\":{paths.Length},\"failed\":{failed},\"client_errors\":{clientErrors},\"concurrency\":{concurrency},\"wall_s\":{wall:F3},\"cpu_s\":{cpu:F3}}}")).ConfigureAwait(false);
        return failed == 0 ? 0 : 1;
    }

    /// <summary>Every path once, <paramref name="concurrency"/> in flight; failures (401, 403, 5xx) and other 4xx answers.</summary>
    private static async Task<(int Failed, int ClientErrors)> PassAsync(HttpClient http, string[] paths, int concurrency)
    {
        var next = -1;
        var failed = 0;
        var clientErrors = 0;
        var workers = Enumerable.Range(0, Math.Max(1, concurrency)).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < paths.Length)
            {
                using var response = await http.GetAsync(paths[i], HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
                // The exporter's own requests may be answered 404 (an API an older Dify lacks): the
                // same answer again is a faithful replay. Auth failures and 5xx are not.
                var status = (int)response.StatusCode;
                if (status is 401 or 403 || status >= 500)
                {
                    Interlocked.Increment(ref failed);
                }
                else if (status >= 400)
                {
                    Interlocked.Increment(ref clientErrors);
                }

                var body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
                await using (body.ConfigureAwait(false))
                {
                    using var json = await JsonDocument.ParseAsync(body).ConfigureAwait(false);
                }
            }
        });
        await Task.WhenAll(workers).ConfigureAwait(false);
        return (failed, clientErrors);
    }

    /// <summary>Password login of every auth era: the plain password, else Base64 (1.11+); a Bearer token or the session cookies with their CSRF header.</summary>
    private static async Task<string?> LoginAsync(HttpClient http, CookieContainer cookies, string email, string password)
    {
        string? problem = null;
        foreach (var sent in new[] { password, Convert.ToBase64String(Encoding.UTF8.GetBytes(password)) })
        {
            var body = JsonSerializer.Serialize(new Dictionary<string, string> { ["email"] = email, ["password"] = sent }, ReplayJson.Default.DictionaryStringString);
            using var response = await http.PostAsync(new Uri("console/api/login", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json")).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                problem = string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)response.StatusCode}: {text}");
                continue;
            }

            using var json = JsonDocument.Parse(text);
            if (json.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object && data.TryGetProperty("access_token", out var token))
            {
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.GetString());
            }

            if (cookies.GetAllCookies().FirstOrDefault(c => c.Name.EndsWith("csrf_token", StringComparison.Ordinal)) is { } csrf)
            {
                http.DefaultRequestHeaders.Add("X-CSRF-Token", csrf.Value);
            }

            return null;
        }

        return problem;
    }
}
