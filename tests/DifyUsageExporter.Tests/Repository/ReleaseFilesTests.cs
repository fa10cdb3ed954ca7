using System.Text.RegularExpressions;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Repository;

/// <summary>
/// The release path that cannot run here (no Docker engine, no registry): compose.yaml pins the
/// published image at the project's version with an opt-in Watchtower label, and the workflow
/// builds and pushes that image on a version tag. Read as text for the essentials.
/// </summary>
public class ReleaseFilesTests
{
    internal static string RepositoryText(string name)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "DifyUsageExporter.slnx")))
        {
            directory = directory.Parent;
        }

        directory.ShouldNotBeNull("repository root not found");
        return File.ReadAllText(Path.Combine(directory.FullName, name));
    }

    [Fact]
    public void Compose_pins_the_published_image_at_the_project_version_and_watchtower_is_opt_in()
    {
        var compose = RepositoryText("compose.yaml");
        var version = Regex.Match(RepositoryText("Directory.Build.props"), "<Version>([^<]+)</Version>").Groups[1].Value;

        var image = Regex.Match(compose, @"(?m)^    image: (ghcr\.io/[a-z0-9-]+/dify-usage-exporter):(\S+)$");
        image.Success.ShouldBeTrue("compose.yaml has no ghcr.io image line");
        image.Groups[2].Value.ShouldBe(version, "the pinned tag follows Directory.Build.props' <Version>");
        compose.ShouldContain("    build:\n");
        Regex.IsMatch(compose, @"(?m)^      com\.centurylinklabs\.watchtower\.enable: ""false""$").ShouldBeTrue();
        compose.ShouldNotContain("\t");
    }

    [Fact]
    public void The_workflow_builds_and_pushes_the_image_on_a_version_tag()
    {
        var workflow = RepositoryText(".github/workflows/release-image.yml");

        workflow.ShouldNotContain("\t");
        Regex.IsMatch(workflow, @"(?ms)^on:\s*\n\s+push:\s*\n\s+tags:\s*\n\s+- ""v\*\.\*\.\*""").ShouldBeTrue("triggered by pushing a v*.*.* tag");
        Regex.IsMatch(workflow, @"(?m)^\s+packages: write$").ShouldBeTrue();
        workflow.ShouldContain("uses: docker/login-action@v3");
        workflow.ShouldContain("registry: ghcr.io");
        workflow.ShouldContain("password: ${{ secrets.GITHUB_TOKEN }}");
        workflow.ShouldContain("images: ghcr.io/${{ github.repository }}");
        workflow.ShouldContain("type=semver,pattern={{version}}");
        workflow.ShouldContain("uses: docker/build-push-action@v6");
        Regex.IsMatch(workflow, @"(?m)^\s+push: true$").ShouldBeTrue();
        workflow.ShouldContain("VERSION=${{ steps.meta.outputs.version }}");
        Regex.Matches(workflow, @"uses: (\S+)").Select(m => m.Groups[1].Value).ShouldAllBe(a => Regex.IsMatch(a, @"^[\w.-]+/[\w.-]+@v\d+$"));

        var dockerfile = RepositoryText("Dockerfile");
        dockerfile.ShouldContain("ARG VERSION");
        dockerfile.ShouldContain("${VERSION:+-p:Version=$VERSION}");
    }
}
