namespace Simulators.Dify;

public sealed partial class WorkspaceGenerator
{
    private static readonly SimModelRef[] AppModels =
    [
        ModelCatalog.OpenAiMini, ModelCatalog.OpenAiMiniLegacy, ModelCatalog.Haiku, ModelCatalog.GeminiFlash,
        ModelCatalog.GeminiFlashLegacy, ModelCatalog.AzureDeployment, ModelCatalog.OpenRouter, ModelCatalog.OllamaFree,
        ModelCatalog.DeepSeek, ModelCatalog.BedrockSonnet,
    ];

    private SimApp ChatApp(string mode, string name, bool agentConfig, bool archived)
    {
        var app = new SimApp
        {
            Id = NewId(),
            Name = name,
            Mode = mode,
            AgentModeConfig = agentConfig,
            Archived = archived,
            CreatedAt = AppCreatedAt(),
            Model = Pick(AppModels),
        };
        for (var c = 0; c < _o.ConversationsPerApp; c++)
        {
            var actor = RandomActor(0.25);
            var conv = new SimConversation
            {
                Id = NewId(),
                Name = $"{name} conversation {c + 1}",
                From = actor,
                // Studio previews of chat apps are listed and counted (the API cannot tell them apart).
                IsDebugger = actor.Account is not null && Chance(0.5),
            };
            var count = _rng.Next(1, _o.MaxMessagesPerConversation + 1);
            var t = RandomInstant(TimeSpan.FromHours(2));
            for (var m = 0; m < count && t < _o.End; m++)
            {
                conv.Messages.Add(ChatMessage(t, app.Model));
                t = NextMessageTime(t);
            }

            Link(conv);
            app.Conversations.Add(conv);
        }

        return app;
    }

    private SimApp CompletionApp(string name)
    {
        var app = new SimApp { Id = NewId(), Name = name, Mode = "completion", CreatedAt = AppCreatedAt(), Model = Pick(AppModels) };
        for (var c = 0; c < _o.ConversationsPerApp * 2; c++)
        {
            var actor = RandomActor(0.2);
            var conv = new SimConversation { Id = NewId(), Name = $"{name} run {c + 1}", From = actor, IsDebugger = actor.Account is not null && Chance(0.5) };
            conv.Messages.Add(ChatMessage(RandomInstant(TimeSpan.Zero), app.Model));
            app.Conversations.Add(conv);
        }

        return app;
    }

    /// <summary>Gaps from seconds to more than a day, so conversations span days and window edges.</summary>
    private DateTimeOffset NextMessageTime(DateTimeOffset t)
    {
        var x = _rng.NextDouble();
        var seconds = x < 0.6 ? _rng.Next(5, 600) : x < 0.9 ? _rng.Next(600, 6 * 3600) : _rng.Next(6 * 3600, 40 * 3600);
        return t.AddSeconds(seconds);
    }

    private static void Link(SimConversation conv)
    {
        for (var i = 1; i < conv.Messages.Count; i++)
        {
            conv.Messages[i].ParentMessageId = conv.Messages[i - 1].Id;
        }
    }

    /// <summary>A chat/completion message: usual usage, missing usage, zero-token error, error with tokens.</summary>
    private SimMessage ChatMessage(DateTimeOffset at, SimModelRef? model)
    {
        var x = _rng.NextDouble();
        if (x < 0.05)
        {
            // Failed before the model was called: zero tokens, zero cost → not an event.
            return new SimMessage { Id = NewId(), CreatedAt = at, Status = "error", Error = "Request timed out", Usage = SimUsage.Priced(0, 0, model, RandomPriceFormat()) };
        }

        var (p, c) = RandomTokens();
        if (x < 0.15)
        {
            // metadata.usage absent: tokens from message_tokens/answer_tokens, cost 0.
            return new SimMessage { Id = NewId(), CreatedAt = at, MessageTokens = p, AnswerTokens = c, Usage = null };
        }

        var usage = SimUsage.Priced(p, c, model, RandomPriceFormat());
        return new SimMessage
        {
            Id = NewId(),
            CreatedAt = at,
            MessageTokens = p,
            AnswerTokens = c,
            Usage = usage,
            Status = x < 0.2 ? "error" : "normal",
            Error = x < 0.2 ? "Stream interrupted" : null,
        };
    }
}
