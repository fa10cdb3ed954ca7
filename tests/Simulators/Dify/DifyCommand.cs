using System.Globalization;
using System.Runtime.InteropServices;

namespace Simulators.Dify;

/// <summary>The standalone <c>dify</c> command: generate, serve, print URL + credentials + truth, run until Ctrl+C.</summary>
public static class DifyCommand
{
    public const string Usage = """
        dify [--port 5001] [--seed 1] [--auth legacy|cookie|cookie-b64] [--secure] [--cookie-domain D]
             [--version 1.9.1] [--timezone Asia/Tokyo] [--email E] [--password P] [--admin-key K]
             [--apps N] [--conversations N] [--messages N] [--runs N] [--debug-runs N]
             [--start 2026-03-01] [--end 2026-03-15] [--token-ttl-minutes N] [--latency-ms N]
             [--triggered-from-filter] [--role owner|admin|editor|normal] [--hide-nested-agent-usage]
             [--modes chat,agent-chat,completion,advanced-chat,workflow] [--compact] [--database CONNSTRING]
             [--record-requests]
        --version 1.12 or later (e.g. 1.17.1): the current-Dify profile (agent apps, knowledge pipelines,
        trigger runs, nested agent usage; data 2026-06-24..2026-07-08, Base64 password by default).
        --compact: node executions are built again on each read instead of held (a 1M-event workspace
        fits in a few hundred MB); another workspace than without it for the same seed.
        --database: also writes the workspace into Dify's tables in that PostgreSQL database (an Npgsql
        connection string; the database is created when missing and must not hold Dify's tables yet), with
        the account time zone as the owner's accounts.timezone: the database source reads the same data.
        --record-requests: keep every GET's path and query; GET /_sim/requests lists them for
        `Simulators replay` (the same requests from a client that does nothing else).
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        Dictionary<string, string?> a;
        try
        {
            a = Parse(args);
        }
        catch (ArgumentException e)
        {
            await output.WriteLineAsync(e.Message + Environment.NewLine + Usage).ConfigureAwait(false);
            return 2;
        }

        int Int(string k, int d) => a.TryGetValue(k, out var v) && v is not null ? int.Parse(v, CultureInfo.InvariantCulture) : d;
        string Str(string k, string d) => a.TryGetValue(k, out var v) && v is not null ? v : d;
        DateTimeOffset Date(string k, DateTimeOffset d) => a.TryGetValue(k, out var v) && v is not null
            ? new DateTimeOffset(DateOnly.ParseExact(v, "yyyy-MM-dd", CultureInfo.InvariantCulture).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)
            : d;

        // --version 1.12 and later (e.g. 1.17.1) is the current-Dify profile: agent apps, nested agent
        // usage, trigger runs, knowledge pipelines, data across the agent usage fix of 2026-07-01.
        var defaults = GeneratorOptions.ForVersion(a.GetValueOrDefault("version"));
        var apps = Int("apps", -1);
        var gen = defaults with
        {
            Seed = Int("seed", 1),
            ChatApps = apps >= 0 ? apps : defaults.ChatApps,
            AgentChatApps = apps >= 0 ? apps : defaults.AgentChatApps,
            CompletionApps = apps >= 0 ? apps : defaults.CompletionApps,
            AdvancedChatApps = apps >= 0 ? apps : defaults.AdvancedChatApps,
            WorkflowApps = apps >= 0 ? apps : defaults.WorkflowApps,
            ConversationsPerApp = Int("conversations", defaults.ConversationsPerApp),
            MaxMessagesPerConversation = Int("messages", defaults.MaxMessagesPerConversation),
            RunsPerWorkflowApp = Int("runs", defaults.RunsPerWorkflowApp),
            DebugRunsPerApp = Int("debug-runs", defaults.DebugRunsPerApp),
            Start = Date("start", defaults.Start),
            End = Date("end", defaults.End),
            CompactNodes = a.ContainsKey("compact"),
        };
        if (a.GetValueOrDefault("modes") is { } modes)
        {
            // Only these app kinds (e.g. a few long chatflow conversations for a benchmark).
            var only = modes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            gen = gen with
            {
                ChatApps = only.Contains("chat") ? gen.ChatApps : 0,
                AgentChatApps = only.Contains("agent-chat") ? gen.AgentChatApps : 0,
                CompletionApps = only.Contains("completion") ? gen.CompletionApps : 0,
                AdvancedChatApps = only.Contains("advanced-chat") ? gen.AdvancedChatApps : 0,
                WorkflowApps = only.Contains("workflow") ? gen.WorkflowApps : 0,
                ArchivedApps = 0,
                UnknownModeApps = false,
            };
        }

        var auth = Str("auth", GeneratorOptions.IsCurrentDify(a.GetValueOrDefault("version")) ? "cookie-b64" : "cookie") switch
        {
            "legacy" => DifyAuthMode.Legacy,
            "cookie" => DifyAuthMode.Cookie,
            "cookie-b64" or "cookie+b64" => DifyAuthMode.CookieBase64,
            var other => throw new ArgumentException($"--auth {other}: expected legacy, cookie or cookie-b64"),
        };
        var options = new DifySimulatorOptions
        {
            Port = Int("port", 5001),
            AuthMode = auth,
            IsSecure = a.ContainsKey("secure"),
            CookieDomain = a.GetValueOrDefault("cookie-domain"),
            Version = a.GetValueOrDefault("version"),
            AccountTimeZone = Str("timezone", "Asia/Tokyo"),
            Email = Str("email", "ops@example.com"),
            Password = Str("password", "Sim-Password-1!"),
            AdminApiKey = a.GetValueOrDefault("admin-key"),
            AccessTokenTtl = TimeSpan.FromMinutes(Int("token-ttl-minutes", 60)),
            Latency = TimeSpan.FromMilliseconds(Int("latency-ms", 0)),
            SupportsTriggeredFromFilter = a.ContainsKey("triggered-from-filter") || defaults.CurrentDifyKinds,
            HideNestedAgentUsage = a.ContainsKey("hide-nested-agent-usage"),
            RecordRequests = a.ContainsKey("record-requests"),
            AccountRole = Str("role", "owner"),
            Workspace = WorkspaceGenerator.Generate(gen),
        };

        if (a.GetValueOrDefault("database") is { } database)
        {
            await output.WriteLineAsync("writing the workspace into Dify's tables ...").ConfigureAwait(false);
            await DifyDatabaseWriter.CreateDatabaseIfMissingAsync(database, CancellationToken.None).ConfigureAwait(false);
            await DifyDatabaseWriter.WriteAsync(database, options.Workspace, gen.Owner, options.AccountTimeZone, CancellationToken.None).ConfigureAwait(false);
        }

        await using var sim = await DifySimulator.StartAsync(options).ConfigureAwait(false);
        await PrintAsync(sim, gen, output).ConfigureAwait(false);
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSignal(PosixSignalContext c)
        {
            c.Cancel = true;
            stop.TrySetResult();
        }

        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal))
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal))
        {
            await stop.Task.ConfigureAwait(false);
        }

        return 0;
    }

    private static Dictionary<string, string?> Parse(string[] args)
    {
        var flags = new HashSet<string> { "secure", "triggered-from-filter", "hide-nested-agent-usage", "compact", "record-requests" };
        var d = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument '{args[i]}'");
            }

            var key = args[i][2..];
            if (flags.Contains(key))
            {
                d[key] = null;
            }
            else if (i + 1 < args.Length)
            {
                d[key] = args[++i];
            }
            else
            {
                throw new ArgumentException($"--{key} needs a value");
            }
        }

        return d;
    }

    /// <summary>Prints the base URL, the credentials and the truth per day in the account zone.</summary>
    public static async Task PrintAsync(DifySimulator sim, GeneratorOptions gen, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(gen);
        ArgumentNullException.ThrowIfNull(output);
        var o = sim.Options;
        var inv = CultureInfo.InvariantCulture;
        await output.WriteLineAsync(string.Create(inv, $"Dify simulator {o.EffectiveVersion} ({o.AuthMode}{(o.IsSecure ? ", secure" : string.Empty)}) listening on {sim.BaseUrl}")).ConfigureAwait(false);
        await output.WriteLineAsync($"  DIFY_API_BASE_URL={sim.BaseUrl.ToString().TrimEnd('/')}").ConfigureAwait(false);
        await output.WriteLineAsync($"  DIFY_EMAIL={o.Email}").ConfigureAwait(false);
        await output.WriteLineAsync($"  DIFY_PASSWORD={o.Password}").ConfigureAwait(false);
        if (o.AdminApiKey is not null)
        {
            await output.WriteLineAsync($"  DIFY_API_TOKEN={o.AdminApiKey}  DIFY_WORKSPACE_ID={o.Workspace.Id}").ConfigureAwait(false);
        }

        await output.WriteLineAsync(string.Create(inv, $"  account timezone {o.AccountTimeZone}; seed {gen.Seed}; data {gen.Start:yyyy-MM-ddTHH:mm:ssZ} .. {gen.End:yyyy-MM-ddTHH:mm:ssZ}; {o.Workspace.Apps.Count} apps")).ConfigureAwait(false);
        var range = sim.Truth.DateRange(sim.AccountZone);
        if (range is not { } r)
        {
            await output.WriteLineAsync("  truth: no events").ConfigureAwait(false);
            return;
        }

        var bound = sim.LowerBound;
        await output.WriteLineAsync(string.Create(inv, $"Request lower bound for all of its data: {bound.Total} (login {bound.Auth}, profile {bound.Profile}, app pages {bound.AppPages}, conversation pages {bound.ConversationPages}, message pages {bound.MessagePages}, completion details {bound.CompletionDetails}, app-log pages {bound.AppLogPages}, node-executions {bound.NodeExecutionCalls}); GET {sim.BaseUrl}_sim/stats reports the requests served")).ConfigureAwait(false);
        var total = sim.Truth.Totals();
        await output.WriteLineAsync(string.Create(inv, $"Truth ({o.AccountTimeZone} days): {total.RequestCount} events, in {total.InputTokens}, out {total.OutputTokens}, cost {total.Cost:0.0000000} USD")).ConfigureAwait(false);
        foreach (var day in sim.Truth.ByDayProviderModel(sim.AccountZone, r.First, r.Last).GroupBy(x => x.Date))
        {
            await output.WriteLineAsync(string.Create(inv, $"  {day.Key:yyyy-MM-dd}  requests {day.Sum(x => x.RequestCount),5}  in {day.Sum(x => x.InputTokens),9}  out {day.Sum(x => x.OutputTokens),9}  cost {day.Sum(x => x.Cost),12:0.0000000}")).ConfigureAwait(false);
        }

        await output.WriteLineAsync("Press Ctrl+C to stop.").ConfigureAwait(false);
    }
}
