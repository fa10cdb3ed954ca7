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
    public static SqliteStore Open(CommandEnvironment env, ExporterSettings settings) =>
        Warn(env, SqliteStore.Open(settings.DataDir, env.Time));

    /// <summary>For read-only commands: works on a DATA_DIR that cannot be written (see <see cref="SqliteStore.OpenForReading"/>).</summary>
    public static SqliteStore OpenForReading(CommandEnvironment env, ExporterSettings settings) =>
        Warn(env, SqliteStore.OpenForReading(settings.DataDir, env.Time));

    private static SqliteStore Warn(CommandEnvironment env, SqliteStore store)
    {
        foreach (var warning in store.Warnings)
        {
            env.Error.WriteLine(env.Secrets.Mask($"warning: {warning}"));
        }

        return store;
    }
}
