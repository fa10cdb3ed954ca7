namespace Simulators.Dify;

/// <summary>A workflow run (workflow app, or the run behind an advanced-chat message).</summary>
public sealed class SimWorkflowRun
{
    public Guid Id { get; init; } = Guid.NewGuid();

    /// <summary><c>app-run</c> (production) or <c>debugging</c> (Studio); 1.12+ also <c>webhook</c>, <c>schedule</c>,
    /// <c>plugin</c> (trigger-started, in the app logs) and <c>rag-pipeline-run</c> / <c>rag-pipeline-debugging</c>.</summary>
    public string TriggeredFrom { get; init; } = "app-run";

    /// <summary><c>succeeded</c>, <c>failed</c>, <c>stopped</c>, <c>partial-succeeded</c>.</summary>
    public string Status { get; init; } = "succeeded";

    public string? Error { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public required SimActor CreatedBy { get; init; }

    /// <summary>App-log <c>created_from</c>: <c>service-api</c>, <c>web-app</c>, <c>installed-app</c>.</summary>
    public string CreatedFrom { get; init; } = "service-api";

    private List<SimNode>? _nodes;

    /// <summary>
    /// The node executions. Runs of a compact workspace (<see cref="GeneratorOptions.CompactNodes"/>)
    /// keep no nodes: <see cref="NodeSource"/> builds the same list again (same ids and usage) on
    /// every read, so a million-event workspace is not held in memory node by node.
    /// </summary>
    public List<SimNode> Nodes
    {
        get => NodeSource?.Invoke() ?? _nodes ?? (_nodes = []);
        init => _nodes = value;
    }

    /// <summary>Deterministic node factory of a compact generated run (null when <see cref="Nodes"/> are held).</summary>
    public Func<List<SimNode>>? NodeSource { get; init; }

    /// <summary>Workflow apps, production runs: the app-log row's id.</summary>
    public Guid LogId { get; init; } = Guid.NewGuid();

    /// <summary>The app-log's <c>created_at</c> (newer Dify: = run start; older: when it finished).</summary>
    public DateTimeOffset? LogCreatedAtOverride { get; init; }

    public DateTimeOffset LogCreatedAt => LogCreatedAtOverride ?? CreatedAt;

    /// <summary>Trigger-started production runs: listed in the app logs, left out of Dify's workflow statistics.</summary>
    public bool IsTriggerRun => TriggeredFrom is "webhook" or "schedule" or "plugin";

    /// <summary>Runs the app logs list (production runs of workflow apps).</summary>
    public bool IsLogged => TriggeredFrom == "app-run" || IsTriggerRun;

    public Guid? ConversationId { get; init; }

    public Guid? MessageId { get; init; }

    public string Version { get; init; } = "2025-11-10 09:15:44.512093";

    /// <summary>Σ tokens of the leaf nodes (what <c>workflow_runs.total_tokens</c> holds).</summary>
    public int TotalTokens => Nodes.Where(n => n.Shape != SimNodeUsageShape.Container && n.Usage is not null).Sum(n => n.Usage!.TotalTokens);
}
