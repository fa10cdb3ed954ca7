using System.Text.RegularExpressions;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Repository;

/// <summary>
/// The folder rule of docs/architecture.md, read from the source text: every file's namespace is its
/// folder, a folder only imports (using directives, fully qualified names) the folders below it, and
/// no C# file is longer than 300 lines.
/// </summary>
public partial class ArchitectureTests
{
    /// <summary>Which folders each folder may use. Usage and Configuration use nothing; Telemetry only Configuration; Http (the shared retry rule) only those two.</summary>
    internal static readonly IReadOnlyDictionary<string, string[]> Allowed = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["Usage"] = [],
        ["Configuration"] = [],
        ["Telemetry"] = ["Configuration"],
        ["Http"] = ["Configuration", "Telemetry"],
        ["Dify"] = ["Http", "Usage", "Configuration", "Telemetry"],
        ["Metering"] = ["Http", "Usage", "Configuration", "Telemetry"],
        ["Storage"] = ["Usage", "Configuration", "Telemetry"],
        ["Sync"] = ["Dify", "Metering", "Storage", "Http", "Usage", "Configuration", "Telemetry"],
        ["Web"] = ["Sync", "Dify", "Metering", "Storage", "Http", "Usage", "Configuration", "Telemetry"],
        ["Hosting"] = ["Web", "Sync", "Dify", "Metering", "Storage", "Http", "Usage", "Configuration", "Telemetry"],
        ["Cli"] = ["Hosting", "Web", "Sync", "Dify", "Metering", "Storage", "Http", "Usage", "Configuration", "Telemetry"],
    };

    public const int MaxLines = 300;

    private static readonly string[] SourceTrees = ["src", "tests", "benchmarks"];

    internal static string SourceRoot => Path.Combine(RepositoryRoot(), "src", "DifyUsageExporter");

    [Fact]
    public void Every_source_folder_has_a_rule()
    {
        var folders = Directory.GetDirectories(SourceRoot).Select(Path.GetFileName).Where(n => n is not ("bin" or "obj")).ToList();

        folders.ShouldBe(Allowed.Keys, ignoreOrder: true);
    }

    [Fact]
    public void Folders_import_only_the_folders_below_them()
    {
        var violations = SourceFiles().SelectMany(Violations).ToList();

        violations.ShouldBeEmpty(string.Join("\n", violations));
    }

    [Fact]
    public void The_rule_catches_an_import_against_the_direction()
    {
        var file = Path.Combine(SourceRoot, "Storage", "Example.cs");

        Violations(file, "using DifyUsageExporter.Sync;\nnamespace DifyUsageExporter.Storage;\nclass A { DifyUsageExporter.Dify.X x; }\n")
            .ShouldBe(["src/DifyUsageExporter/Storage/Example.cs imports Sync", "src/DifyUsageExporter/Storage/Example.cs imports Dify"]);
        Violations(Path.Combine(SourceRoot, "Cli", "Example.cs"), "using DifyUsageExporter.Hosting;\nnamespace DifyUsageExporter.Cli;\n").ShouldBeEmpty();
        Violations(Path.Combine(SourceRoot, "Usage", "Example.cs"), "namespace DifyUsageExporter.Sync;\n").ShouldBe(["src/DifyUsageExporter/Usage/Example.cs declares namespace DifyUsageExporter.Sync, not DifyUsageExporter.Usage"]);
    }

    [Fact]
    public void No_source_file_is_longer_than_300_lines()
    {
        var root = RepositoryRoot();
        var files = SourceTrees
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        var long_ = files.Select(f => (File: Path.GetRelativePath(root, f), Lines: File.ReadLines(f).Count())).Where(x => x.Lines > MaxLines).ToList();

        long_.ShouldBeEmpty(string.Join("\n", long_.Select(x => $"{x.File}: {x.Lines} lines (split it by concern; at most {MaxLines})")));
    }

    private static IEnumerable<string> SourceFiles() =>
        Directory.EnumerateFiles(SourceRoot, "*.cs", SearchOption.AllDirectories)
            .Where(f => Path.GetRelativePath(SourceRoot, f).Split(Path.DirectorySeparatorChar) is [var top, ..] && top is not ("bin" or "obj") && Allowed.ContainsKey(top));

    private static IEnumerable<string> Violations(string file) => Violations(file, File.ReadAllText(file));

    internal static List<string> Violations(string file, string text)
    {
        var relative = Path.GetRelativePath(RepositoryRoot(), file).Replace(Path.DirectorySeparatorChar, '/');
        var folder = Path.GetRelativePath(SourceRoot, file).Split(Path.DirectorySeparatorChar)[0];
        var code = Comments().Replace(text, string.Empty);
        var result = new List<string>();
        foreach (Match m in NamespaceDeclaration().Matches(code))
        {
            var declared = m.Groups[1].Value;
            if (declared != $"DifyUsageExporter.{folder}" && !declared.StartsWith($"DifyUsageExporter.{folder}.", StringComparison.Ordinal))
            {
                result.Add($"{relative} declares namespace {declared}, not DifyUsageExporter.{folder}");
            }
        }

        var imported = Imports().Matches(NamespaceDeclaration().Replace(code, string.Empty)).Select(m => m.Groups[1].Value).Where(f => f != folder).Distinct(StringComparer.Ordinal);
        result.AddRange(imported.Where(f => Allowed.ContainsKey(f) && !Allowed[folder].Contains(f)).Select(f => $"{relative} imports {f}"));
        return result;
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "DifyUsageExporter.slnx")))
        {
            directory = directory.Parent;
        }

        directory.ShouldNotBeNull("repository root not found");
        return directory.FullName;
    }

    /// <summary>Line and block comments, so a <c>see cref</c> or a sentence does not count as an import.</summary>
    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex(@"(?m)^\s*namespace\s+([\w.]+)")]
    private static partial Regex NamespaceDeclaration();

    /// <summary><c>using DifyUsageExporter.X;</c>, <c>using static</c>, aliases and fully qualified <c>DifyUsageExporter.X.</c> names.</summary>
    [GeneratedRegex(@"(?<![\w.])(?:global::)?DifyUsageExporter\.(\w+)")]
    private static partial Regex Imports();
}
