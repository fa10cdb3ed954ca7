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

    /// <summary>Writes workflow app-log <c>created_at</c> at run finish (older Dify) for some runs.</summary>
    public bool SomeLogsAtFinish { get; init; } = true;
}
