using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Simulators.Dify;
using Simulators.Meter;

namespace Simulators.Demo;

/// <summary>
/// The README's first command: <c>dotnet run --project tests/Simulators -- demo</c>. When a Dify is
/// configured (DIFY_API_BASE_URL / DIFY_API_URL in the environment or ./.env) it runs the real
/// exporter once against it. Otherwise it is a clearly labelled SIMULATION: it starts the Dify and
/// API_Meter simulators on loopback, runs the real exporter (<c>run --once</c>, a separate process)
/// against them, and compares what API_Meter ended up holding with the generator's ground truth.
/// </summary>
public static class DemoCommand
{
    private const string MeterToken = "demo-meter-token-0001";

    /// <summary>The Dify version the simulation speaks by default: the current release, with every kind it bills.</summary>
    public const string DefaultVersion = "1.17.1";

    /// <param name="args"><c>[--seed N] [--version V] [--keep] [--exporter path/to/dify-usage-exporter.dll]</c> (--keep: leave the exporter's state directory for `spool list` and friends) (the latter for tests; default: dotnet run the project).</param>
    /// <param name="workingDirectory">Where ./.env is looked for (default: the current directory).</param>
    public static async Task<int> RunAsync(string[] args, TextWriter output, string? workingDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var seed = 1;
        var version = DefaultVersion;
        string? exporterDll = null;
        var keep = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seed" when i + 1 < args.Length:
                    seed = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--version" when i + 1 < args.Length:
                    version = args[++i];
                    break;
                case "--keep":
                    keep = true;
                    break;
                case "--exporter" when i + 1 < args.Length:
                    exporterDll = Path.GetFullPath(args[++i]);
                    break;
                default:
                    await output.WriteLineAsync("usage: demo [--seed N] [--version 1.17.1] [--keep] [--exporter path/to/dify-usage-exporter.dll]").ConfigureAwait(false);
                    return 2;
            }
        }

        var root = FindRepositoryRoot();
        var configured = ConfiguredDify(workingDirectory ?? Directory.GetCurrentDirectory());
        if (configured is not null)
        {
            await output.WriteLineAsync($"Dify is configured ({configured}): running the exporter once against it — real data, real delivery.").ConfigureAwait(false);
            return await RunExporterAsync(root, exporterDll, null, line => output.WriteLine(line)).ConfigureAwait(false);
        }

        return await SimulateAsync(root, exporterDll, seed, version, keep, output).ConfigureAwait(false);
    }

    private static async Task<int> SimulateAsync(string root, string? exporterDll, int seed, string version, bool keep, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        await output.WriteLineAsync("================================================================================").ConfigureAwait(false);
        await output.WriteLineAsync(" SIMULATION: no Dify is configured (DIFY_API_BASE_URL unset, no ./.env with it).").ConfigureAwait(false);
        await output.WriteLineAsync(" The real exporter runs one cycle against the bundled Dify and API_Meter").ConfigureAwait(false);
        await output.WriteLineAsync(" simulators on 127.0.0.1, with a generated workspace. No real data is touched.").ConfigureAwait(false);
        await output.WriteLineAsync("================================================================================").ConfigureAwait(false);

        var generator = GeneratorOptions.ForVersion(version, seed);
        var workspace = WorkspaceGenerator.Generate(generator);
        await using var dify = await DifySimulator.StartAsync(new DifySimulatorOptions
        {
            AuthMode = DifyAuthMode.CookieBase64,
            Version = version,
            SupportsTriggeredFromFilter = generator.CurrentDifyKinds,
            AccountTimeZone = "Asia/Tokyo",
            Workspace = workspace,
        }).ConfigureAwait(false);
        await using var meter = await FakeApiMeter.StartAsync(MeterToken).ConfigureAwait(false);
        var range = dify.Truth.DateRange(dify.AccountZone) ?? throw new InvalidOperationException("The generated workspace has no usage.");
        var dataDir = Directory.CreateTempSubdirectory("dify-usage-exporter-demo-").FullName;
        var emptyEnvFile = Path.Combine(dataDir, "empty.env");
        await File.WriteAllTextAsync(emptyEnvFile, string.Empty).ConfigureAwait(false);

        await output.WriteLineAsync(string.Create(inv, $"Dify simulator:      {dify.BaseUrl} ({dify.Options.EffectiveVersion}, Base64-password cookie era, account zone {dify.Options.AccountTimeZone}, {workspace.Apps.Count} apps, {workspace.Datasets.Count} knowledge bases)")).ConfigureAwait(false);
        await output.WriteLineAsync($"API_Meter simulator: {meter.Url}").ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(inv, $"Exporting usage days {range.First:yyyy-MM-dd}..{range.Last:yyyy-MM-dd}; state in {dataDir}")).ConfigureAwait(false);
        await output.WriteLineAsync("--- exporter log (JSON Lines, shortened) ---").ConfigureAwait(false);

        var variables = new Dictionary<string, string>
        {
            ["ENV_FILE"] = emptyEnvFile,
            ["DIFY_API_BASE_URL"] = dify.BaseUrl.ToString().TrimEnd('/'),
            ["DIFY_EMAIL"] = dify.Options.Email,
            ["DIFY_PASSWORD"] = dify.Options.Password,
            ["EXTERNAL_API_URL"] = meter.Url.ToString(),
            ["EXTERNAL_API_TOKEN"] = MeterToken,
            ["API_METER_TENANT_ID"] = "00000000-0000-4000-8000-00000000d3e0",
            ["DIFY_FETCH_PERIOD"] = "custom",
            ["DIFY_FETCH_START_DATE"] = range.First.ToString("yyyy-MM-dd", inv),
            ["DIFY_FETCH_END_DATE"] = range.Last.ToString("yyyy-MM-dd", inv),
            ["DIFY_LOOKBACK_DAYS"] = "0",
            ["DATA_DIR"] = dataDir,
            ["HEALTHCHECK_ENABLED"] = "false",
            ["LOG_LEVEL"] = "info",
        };
        var exit = await RunExporterAsync(root, exporterDll, variables, line => output.WriteLine(Shorten(line))).ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(inv, $"--- exporter exited with code {exit} ---")).ConfigureAwait(false);

        var truth = dify.Truth.ByDayProviderModel(dify.AccountZone, range.First, range.Last)
            .ToDictionary(r => (r.Date.ToString("yyyy-MM-dd", inv), r.Provider, r.Model));
        var rows = meter.Rows().ToDictionary(r => (r.UsageDate, r.Provider, r.Model));
        var mismatches = truth.Keys.Union(rows.Keys).Where(k =>
            !truth.TryGetValue(k, out var t) || !rows.TryGetValue(k, out var r) ||
            t.InputTokens != r.InputTokens || t.OutputTokens != r.OutputTokens || t.RequestCount != r.RequestCount || t.Cost != r.CostActual).ToList();

        await output.WriteLineAsync("What API_Meter now holds, per usage day (all providers and models):").ConfigureAwait(false);
        await output.WriteLineAsync("  day         keys  requests  input tokens  output tokens        cost USD").ConfigureAwait(false);
        foreach (var day in rows.Values.GroupBy(r => r.UsageDate).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            await output.WriteLineAsync(string.Create(inv, $"  {day.Key}  {day.Count(),4}  {day.Sum(r => r.RequestCount),8}  {day.Sum(r => r.InputTokens),12}  {day.Sum(r => r.OutputTokens),13}  {day.Sum(r => r.CostActual),14:0.0000000}")).ConfigureAwait(false);
        }

        await output.WriteLineAsync(mismatches.Count == 0
            ? string.Create(inv, $"OK: all {truth.Count} (day, provider, model) totals equal the simulator's ground truth, to the token and to 1e-7 USD.")
            : string.Create(inv, $"MISMATCH: {mismatches.Count} of {truth.Count} keys differ from the ground truth, e.g. {mismatches[0]}.")).ConfigureAwait(false);
        await output.WriteLineAsync("SIMULATION finished. To export a real Dify: cp .env.example .env, set DIFY_API_BASE_URL, DIFY_EMAIL,").ConfigureAwait(false);
        await output.WriteLineAsync("DIFY_PASSWORD, EXTERNAL_API_URL, EXTERNAL_API_TOKEN and API_METER_TENANT_ID, check with").ConfigureAwait(false);
        await output.WriteLineAsync("`dotnet run --project src/DifyUsageExporter -- check --dify --api-meter`, then run this same command again.").ConfigureAwait(false);
        if (keep)
        {
            // The same variables in a .env of the kept directory, so the read commands find the store.
            var envFile = Path.Combine(dataDir, "demo.env");
            await File.WriteAllLinesAsync(envFile, variables.Where(v => v.Key != "ENV_FILE").Select(v => $"{v.Key}={v.Value}")).ConfigureAwait(false);
            await output.WriteLineAsync($"State kept in {dataDir} (--keep). Look at it with, e.g.:").ConfigureAwait(false);
            await output.WriteLineAsync($"  ENV_FILE={envFile} dotnet run --project src/DifyUsageExporter -- spool list").ConfigureAwait(false);
            await output.WriteLineAsync($"  ENV_FILE={envFile} dotnet run --project src/DifyUsageExporter -- watermark show").ConfigureAwait(false);
            await output.WriteLineAsync($"Delete it with: rm -r {dataDir}").ConfigureAwait(false);
        }
        else
        {
            TryDelete(dataDir);
        }

        return exit != 0 ? exit : mismatches.Count == 0 ? 0 : 1;
    }

    /// <summary>Runs <c>dify-usage-exporter run --once</c> as a child process; <paramref name="variables"/> null = inherit everything.</summary>
    private static async Task<int> RunExporterAsync(string root, string? exporterDll, IReadOnlyDictionary<string, string>? variables, Action<string> onLine)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (exporterDll is not null)
        {
            start.ArgumentList.Add(exporterDll);
        }
        else
        {
            foreach (var a in new[] { "run", "--project", Path.Combine(root, "src", "DifyUsageExporter"), "--no-launch-profile", "--" })
            {
                start.ArgumentList.Add(a);
            }
        }

        start.ArgumentList.Add("run");
        start.ArgumentList.Add("--once");
        foreach (var (key, value) in variables ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dotnet.");
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onLine(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await process.WaitForExitAsync().ConfigureAwait(false);
        return process.ExitCode;
    }

    /// <summary>"level message" from a JSON log line; anything else as it is.</summary>
    private static string Shorten(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var level = doc.RootElement.GetProperty("level").GetString();
            var message = doc.RootElement.GetProperty("message").GetString();
            return $"  [{level}] {message}";
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // Not a JSON log line (build output of `dotnet run`): show it unchanged.
            return "  " + line;
        }
    }

    /// <summary>Where a Dify is configured, or null: the environment, then ./.env (uncommented lines only).</summary>
    public static string? ConfiguredDify(string workingDirectory)
    {
        foreach (var name in new[] { "DIFY_API_BASE_URL", "DIFY_API_URL" })
        {
            if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(name)))
            {
                return $"{name} in the environment";
            }
        }

        var envFile = Environment.GetEnvironmentVariable("ENV_FILE") is { Length: > 0 } named ? Path.GetFullPath(named, workingDirectory) : Path.Combine(workingDirectory, ".env");
        if (!File.Exists(envFile))
        {
            return null;
        }

        foreach (var raw in File.ReadLines(envFile))
        {
            var line = raw.Trim();
            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line[7..].TrimStart();
            }

            foreach (var name in new[] { "DIFY_API_BASE_URL=", "DIFY_API_URL=" })
            {
                if (line.StartsWith(name, StringComparison.Ordinal) && line[name.Length..].Trim().Trim('"', '\'').Length > 0)
                {
                    return $"{name.TrimEnd('=')} in {envFile}";
                }
            }
        }

        return null;
    }

    private static string FindRepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "DifyUsageExporter.slnx")))
                {
                    return dir.FullName;
                }
            }
        }

        return Directory.GetCurrentDirectory();
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless; the demo's result stands.
        }
    }
}
