using DifyUsageExporter.Hosting;

namespace DifyUsageExporter.Cli;

/// <summary>Asks before destructive commands; without a terminal to answer, --yes is required.</summary>
internal static class Confirmation
{
    public static async Task<bool> AskAsync(CommandEnvironment env, string question, bool yes)
    {
        if (yes)
        {
            return true;
        }

        if (!env.CanPrompt)
        {
            throw new CliException($"{question} Refusing without confirmation: stdin cannot answer; pass --yes.", ExitCodes.Usage);
        }

        await env.Error.WriteAsync($"{question} [y/N] ").ConfigureAwait(false);
        var answer = (await env.In.ReadLineAsync().ConfigureAwait(false))?.Trim();
        return string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase) || string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase);
    }
}
