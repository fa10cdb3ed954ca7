namespace Simulators.Dify;

/// <summary>
/// Raw provider/model strings as Dify writes them, each with the normalised names the contract
/// expects (usage-semantics.md §3): plugin ids keep their last segment, bare legacy names stay,
/// everything lower-cased and trimmed. Prices are USD per million tokens.
/// </summary>
public static class ModelCatalog
{
    public static readonly SimModelRef OpenAiMini = new("langgenius/openai/openai", "gpt-4o-mini", "openai", "gpt-4o-mini", 0.15m, 0.6m);
    public static readonly SimModelRef OpenAiMiniLegacy = new("openai", "gpt-4o-mini", "openai", "gpt-4o-mini", 0.15m, 0.6m);
    public static readonly SimModelRef OpenAi4o = new("langgenius/openai/openai", "gpt-4o", "openai", "gpt-4o", 2.5m, 10m);
    public static readonly SimModelRef Haiku = new("langgenius/anthropic/anthropic", "claude-3-5-haiku-20241022", "anthropic", "claude-3-5-haiku-20241022", 0.8m, 4m);
    public static readonly SimModelRef HaikuLegacy = new("anthropic", "claude-3-5-haiku-20241022", "anthropic", "claude-3-5-haiku-20241022", 0.8m, 4m);
    public static readonly SimModelRef GeminiFlash = new("langgenius/gemini/google", "gemini-2.0-flash", "google", "gemini-2.0-flash", 0.1m, 0.4m);
    public static readonly SimModelRef GeminiFlashLegacy = new("google", "gemini-2.0-flash", "google", "gemini-2.0-flash", 0.1m, 0.4m);
    public static readonly SimModelRef AzureDeployment = new("langgenius/azure_openai/azure_openai", " Prod-GPT4o ", "azure_openai", "prod-gpt4o", 2.5m, 10m);
    public static readonly SimModelRef BedrockSonnet = new("langgenius/bedrock/bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", 3m, 15m);
    public static readonly SimModelRef OpenRouter = new("someorg/openrouter/openrouter", "meta-llama/llama-3.1-8b-instruct", "openrouter", "meta-llama/llama-3.1-8b-instruct", 0.02m, 0.05m);
    public static readonly SimModelRef OllamaFree = new("langgenius/ollama/ollama", "llama3.1:8b", "ollama", "llama3.1:8b", 0m, 0m);
    public static readonly SimModelRef DeepSeek = new("langgenius/deepseek/deepseek", "deepseek-chat", "deepseek", "deepseek-chat", 0.27m, 1.1m);
    public static readonly SimModelRef UpperCased = new(" LangGenius/OpenAI/OpenAI ", "GPT-4o-Mini", "openai", "gpt-4o-mini", 0.15m, 0.6m);

    /// <summary>Every entry; the generator picks from these.</summary>
    public static IReadOnlyList<SimModelRef> All { get; } =
    [
        OpenAiMini, OpenAiMiniLegacy, OpenAi4o, Haiku, HaikuLegacy, GeminiFlash, GeminiFlashLegacy,
        AzureDeployment, BedrockSonnet, OpenRouter, OllamaFree, DeepSeek, UpperCased,
    ];
}
