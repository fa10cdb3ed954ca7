namespace Simulators.Dify;

/// <summary>Shape of a generated workspace. Same options + seed → same workspace, ids included.</summary>
public sealed record GeneratorOptions
{
    public int Seed { get; init; } = 1;

    public int ChatApps { get; init; } = 2;

    public int AgentChatApps { get; init; } = 1;

    public int CompletionApps { get; init; } = 1;

    public int AdvancedChatApps { get; init; } = 2;

    public int WorkflowApps { get; init; } = 2;

    /// <summary>Adds one app each of <c>channel</c>, <c>rag-pipeline</c>, <c>agent</c> (modes the exporter must skip).</summary>
    public bool UnknownModeApps { get; init; } = true;

    /// <summary>Archived chat apps with data: hidden by <c>/apps</c>, not counted.</summary>
    public int ArchivedApps { get; init; } = 1;

    public int ConversationsPerApp { get; init; } = 8;

    public int MaxMessagesPerConversation { get; init; } = 6;

    /// <summary>Production runs per workflow app.</summary>
    public int RunsPerWorkflowApp { get; init; } = 12;

    /// <summary>Studio debug runs per workflow/advanced-chat app (never counted).</summary>
    public int DebugRunsPerApp { get; init; } = 3;

    /// <summary>Data lies in [Start, End). Default spans the US DST start of 2026-03-08.</summary>
    public DateTimeOffset Start { get; init; } = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    public DateTimeOffset End { get; init; } = new(2026, 3, 15, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Zones whose local midnights (±2 min) attract a share of the timestamps.</summary>
    public IReadOnlyList<string> EdgeTimeZones { get; init; } = ["Asia/Tokyo", "America/New_York", "UTC"];

    /// <summary>Share of timestamps placed next to a local midnight of an edge zone.</summary>
    public double EdgeFraction { get; init; } = 0.2;

    public int EndUsers { get; init; } = 8;

    /// <summary>The account that owns the workspace (the simulator's login account by default).</summary>
    public SimAccount Owner { get; init; } = new(new Guid("8f2c1d3e-4b5a-4c6d-9e7f-0a1b2c3d4e5f"), "Ops Admin", "ops@example.com");

    /// <summary>
    /// Dify 1.12–1.17 kinds: agent apps (mode <c>agent</c>), a workflow with nested agent-node usage and
    /// trigger-started runs, knowledge bases with pipelines (production and preview runs).
    /// </summary>
    public bool CurrentDifyKinds { get; init; }

    /// <summary>Agent apps (with <see cref="CurrentDifyKinds"/>).</summary>
    public int AgentApps { get; init; } = 2;

    /// <summary>Knowledge bases with a pipeline (with <see cref="CurrentDifyKinds"/>); one classic knowledge base is added too.</summary>
    public int PipelineDatasets { get; init; } = 2;

    /// <summary>Agent messages created before this instant were stored with 0 tokens (Dify before PR #38270, about 2026-07-01).</summary>
    public DateTimeOffset AgentUsageRecordedFrom { get; init; } = new(2026, 7, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// The workspace shape of a simulated Dify version: <c>1.12</c> and later (e.g. <c>1.17.1</c>) add the
    /// current kinds and move the data window to 2026-06-24..2026-07-08, across the agent usage fix.
    /// </summary>
    public static GeneratorOptions ForVersion(string? version, int seed = 1)
    {
        var options = new GeneratorOptions { Seed = seed };
        return IsCurrentDify(version)
            ? options with { CurrentDifyKinds = true, Start = new DateTimeOffset(2026, 6, 24, 0, 0, 0, TimeSpan.Zero), End = new DateTimeOffset(2026, 7, 8, 0, 0, 0, TimeSpan.Zero) }
            : options;
    }

    /// <summary>True for Dify 1.12 and later (the versions with agent apps and knowledge pipelines).</summary>
    public static bool IsCurrentDify(string? version)
        => version is not null && Version.TryParse(version.Split('-')[0], out var v) && v >= new Version(1, 12);

    /// <summary>
    /// Keeps no node executions in memory: each run builds its nodes again from a seed of its own when
    /// read (same ids and usage every time), for workspaces of a million events. The random sequence
    /// differs from the held form, so the same seed gives another (equally valid) workspace.
    /// </summary>
    public bool CompactNodes { get; init; }

    /// <summary>
    /// How many seeds the node builds of a <see cref="CompactNodes"/> workspace draw from (default: every
    /// non-negative int). A 1M-event workspace draws some equal seeds by chance; tests shrink the space
    /// to make equal seeds certain at a small size.
    /// </summary>
    public int NodeSeeds { get; init; } = int.MaxValue;

    /// <summary>Writes workflow app-log <c>created_at</c> at run finish (older Dify) for some runs.</summary>
    public bool SomeLogsAtFinish { get; init; } = true;
}
