namespace Simulators;

/// <summary>
/// The web builder of every loopback server of the simulators and tests. <c>CreateSlimBuilder()</c>
/// alone takes the working directory as content root and watches it, recursively, for changes of
/// <c>appsettings.json</c>: every simulator then held inotify watches on whatever directory it was
/// started from, and when that directory contained the exporter's DATA_DIR (a benchmark run by
/// hand from a scratch directory) each SQLite page write also woke the watcher, which showed up as
/// kernel CPU charged to the exporter. These servers read no settings file, so nothing is watched.
/// </summary>
public static class LoopbackWeb
{
    public static WebApplicationBuilder CreateSlimBuilder() => WebApplication.CreateSlimBuilder(new WebApplicationOptions
    {
        ContentRootPath = AppContext.BaseDirectory,
        Args = ["--hostBuilder:reloadConfigOnChange=false"],
    });
}
