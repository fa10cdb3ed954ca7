using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Simulators;

/// <summary>
/// The loopback servers watch no directory: a settings file watched with reloadOnChange puts a
/// recursive inotify watch on the content root, and a simulator started from the directory that
/// holds the exporter's DATA_DIR then charged a wake-up to every SQLite page write.
/// </summary>
public sealed class LoopbackWebTests
{
    [Fact]
    public void The_builder_reloads_no_settings_file_and_roots_in_its_own_directory()
    {
        var builder = global::Simulators.LoopbackWeb.CreateSlimBuilder();

        var files = ((IConfigurationBuilder)builder.Configuration).Sources.OfType<FileConfigurationSource>().ToList();
        files.ShouldNotBeEmpty("the slim builder still reads appsettings.json; only the watching is off");
        files.ShouldAllBe(source => !source.ReloadOnChange);
        Path.TrimEndingDirectorySeparator(builder.Environment.ContentRootPath)
            .ShouldBe(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
    }
}
