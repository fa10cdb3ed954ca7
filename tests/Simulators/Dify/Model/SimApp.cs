namespace Simulators.Dify;

/// <summary>An app of a workspace, with its data.</summary>
public sealed class SimApp
{
    public Guid Id { get; init; } = Guid.NewGuid();

    public string Name { get; init; } = "App";

    /// <summary>Stored mode: completion, chat, agent-chat, advanced-chat, workflow, channel, rag-pipeline, agent, …</summary>
    public required string Mode { get; init; }

    /// <summary>A <c>chat</c> app whose config is agent mode is reported as <c>agent-chat</c> (<c>mode_compatible_with_agent</c>).</summary>
    public bool AgentModeConfig { get; init; }

    public string ReportedMode => Mode == "chat" && AgentModeConfig ? "agent-chat" : Mode;

    /// <summary>Archived apps (<c>status != normal</c>) are hidden and not counted.</summary>
    public bool Archived { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary><c>model_config.model</c> of chat/agent-chat/completion apps; null for workflow modes.</summary>
    public SimModelRef? Model { get; init; }

    public List<SimConversation> Conversations { get; init; } = [];

    /// <summary>Workflow runs: production (<c>app-run</c>) and Studio (<c>debugging</c>).</summary>
    public List<SimWorkflowRun> Runs { get; init; } = [];

    /// <summary>Agent apps (mode <c>agent</c>, Dify 1.12+): the roster agent id of <c>/console/api/agent</c>.</summary>
    public Guid? AgentId { get; init; }

    public bool IsChatLike => ReportedMode is "chat" or "agent-chat" or "advanced-chat";
}
