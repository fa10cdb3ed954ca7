namespace Simulators.Dify;

/// <summary>A message of a chat, agent-chat, advanced-chat or completion conversation.</summary>
public sealed class SimMessage
{
    public Guid Id { get; init; } = Guid.NewGuid();

    /// <summary>Whole seconds (Dify serialises integer Unix seconds).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    public string Query { get; init; } = "Hello";

    public string Answer { get; init; } = "Hi!";

    /// <summary>The <c>message_tokens</c> column (prompt tokens; advanced-chat: Σ over nodes).</summary>
    public int MessageTokens { get; init; }

    public int AnswerTokens { get; init; }

    /// <summary><c>metadata.usage</c>; null = the key is absent (older builds).</summary>
    public SimUsage? Usage { get; init; }

    /// <summary>Advanced-chat only: the run whose node executions carry the per-model split.</summary>
    public Guid? WorkflowRunId { get; init; }

    /// <summary><c>normal</c> or <c>error</c>.</summary>
    public string Status { get; init; } = "normal";

    public string? Error { get; init; }

    public Guid? ParentMessageId { get; set; }

    /// <summary>What the statistics endpoint sums as <c>messages.total_price</c>.</summary>
    public decimal DbTotalPrice => Usage?.TotalPrice ?? 0m;
}
