using System.Text.RegularExpressions;
using DifyUsageExporter.Configuration;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Repository;

/// <summary>The README table and .env.example must list every variable of the catalog.</summary>
public class DocumentationTests
{
    private static string RepositoryFile(string name)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "DifyUsageExporter.slnx")))
        {
            directory = directory.Parent;
        }

        directory.ShouldNotBeNull("repository root not found");
        return File.ReadAllText(Path.Combine(directory.FullName, name));
    }

    public static TheoryData<string> Variables() => new(VariableCatalog.All.Select(v => v.Name));

    [Theory]
    [MemberData(nameof(Variables))]
    public void The_README_configuration_table_has_a_row_for_the_variable(string name)
    {
        var readme = RepositoryFile("README.md");

        Regex.IsMatch(readme, $@"(?m)^\| `{name}`[^|]*\|[^|]*\|\s*\S").ShouldBeTrue($"README.md has no table row for {name}");
    }

    [Theory]
    [MemberData(nameof(Variables))]
    public void Env_example_lists_the_variable_with_a_comment_and_its_default(string name)
    {
        var lines = RepositoryFile(".env.example").Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var spec = VariableCatalog.Find(name)!;

        var index = lines.FindIndex(l => Regex.IsMatch(l, $@"^(# )?{name}="));
        index.ShouldBeGreaterThan(0, $".env.example does not list {name}");
        lines[index - 1].ShouldStartWith("# ", customMessage: $"{name} needs a comment line above it");
        Regex.IsMatch(lines[index - 1], "^(# )?[A-Z][A-Z0-9_]*=").ShouldBeFalse($"the line above {name} must be its description");
        if (spec.Default is not null && lines[index].StartsWith('#'))
        {
            lines[index].ShouldBe($"# {name}={spec.Default}");
        }
    }

    [Fact]
    public void Env_example_parses_and_only_names_catalog_variables()
    {
        var result = DotEnvParser.Parse(RepositoryFile(".env.example"), ".env.example");

        result.Problems.ShouldBeEmpty();
        result.Entries.ShouldNotBeEmpty();
        result.Entries.ShouldAllBe(e => VariableCatalog.Find(e.Key) != null);
    }
}
