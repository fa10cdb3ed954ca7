namespace DifyUsageExporter.Tests.Support;

/// <summary>The recorded Dify answers under Fixtures/dify (copied to the output directory).</summary>
public static class Fixtures
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "dify", name);

    public static string Read(string name) => File.ReadAllText(Path(name));
}
