namespace Simulators.Dify;

/// <summary>A conversation (chat modes: many messages; completion: exactly one).</summary>
public sealed class SimConversation
{
    public Guid Id { get; init; } = Guid.NewGuid();

    public string Name { get; init; } = "Conversation";

    public required SimActor From { get; init; }

    /// <summary><c>api</c> (end user) or <c>console</c> (account).</summary>
    public string FromSource => From.EndUser is not null ? "api" : "console";

    /// <summary>Studio preview (<c>invoke_from = debugger</c>): listed for chat apps, hidden for advanced-chat.</summary>
    public bool IsDebugger { get; init; }

    /// <summary>Messages in creation order with strictly increasing <c>created_at</c>.</summary>
    public List<SimMessage> Messages { get; init; } = [];

    public DateTimeOffset CreatedAt => Messages.Count > 0 ? Messages[0].CreatedAt : default;

    /// <summary>Defaults to the last message's time; can be set later (a read in 1.9.x bumps it).</summary>
    public DateTimeOffset? UpdatedAtOverride { get; set; }

    public DateTimeOffset UpdatedAt => UpdatedAtOverride ?? (Messages.Count > 0 ? Messages[^1].CreatedAt : default);

    public DateTimeOffset? ReadAt { get; set; }
}
