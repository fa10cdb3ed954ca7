using DifyUsageExporter.Configuration;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Storage;

namespace DifyUsageExporter.Cli;

/// <summary>
/// How commands open the state store: warnings of the opening (tightened modes, read-only access)
/// go to stderr. Commands that log in to Dify prove the store usable first with <see cref="StoreProbe"/>.
/// </summary>
internal static class CommandStore
{
    /// <summary>Opens (creating and migrating as needed) the store for a command that writes.</summary>
    public static StateStore Open(CommandEnvironment env, ExporterSettings settings) =>
        Warn(env, StateStore.Open(settings, env.Time));

    /// <summary>For read-only commands: works on a DATA_DIR that cannot be written (see <see cref="StateStore.OpenForReading(string, TimeProvider)"/>).</summary>
    public static StateStore OpenForReading(CommandEnvironment env, ExporterSettings settings) =>
        Warn(env, StateStore.OpenForReading(settings, env.Time));

    private static StateStore Warn(CommandEnvironment env, StateStore store)
    {
        foreach (var warning in store.Warnings)
        {
            env.Error.WriteLine(env.Secrets.Mask($"warning: {warning}"));
        }

        return store;
    }
}
