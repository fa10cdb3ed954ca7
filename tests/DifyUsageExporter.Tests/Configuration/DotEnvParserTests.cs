using DifyUsageExporter.Configuration;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Configuration;

public class DotEnvParserTests
{
    private static Dictionary<string, string> Values(string text)
    {
        var result = DotEnvParser.Parse(text, ".env");
        result.Problems.ShouldBeEmpty();
        return result.Entries.ToDictionary(e => e.Key, e => e.Value);
    }

    [Fact]
    public void Reads_plain_quoted_and_exported_values_and_skips_comments_and_blank_lines()
    {
        var values = Values("""
            # a comment line

            PLAIN=value
            DOUBLE="two words"
            SINGLE='it # is not a comment'
            ESCAPED="line\nbreak \"quoted\""
            export EXPORTED=yes
              INDENTED = spaced
            EMPTY=
            """);

        values["PLAIN"].ShouldBe("value");
        values["DOUBLE"].ShouldBe("two words");
        values["SINGLE"].ShouldBe("it # is not a comment");
        values["ESCAPED"].ShouldBe("line\nbreak \"quoted\"");
        values["EXPORTED"].ShouldBe("yes");
        values["INDENTED"].ShouldBe("spaced");
        values["EMPTY"].ShouldBe(string.Empty);
        values.Count.ShouldBe(7);
    }

    [Theory]
    [InlineData("MAX_RETRY=3 # retries after the first attempt", "3")]
    [InlineData("EXTERNAL_API_URL=https://meter.example.com/receive # production", "https://meter.example.com/receive")]
    [InlineData("CRON_SCHEDULE=0 16 * * *\t# 01:00 JST", "0 16 * * *")]
    [InlineData("QUOTED=\"30\" # seconds", "30")]
    [InlineData("HASH_IN_VALUE=abc#def", "abc#def")]
    [InlineData("FRAGMENT=https://x.example.com/a#b", "https://x.example.com/a#b")]
    public void An_inline_comment_after_whitespace_never_becomes_part_of_the_value(string line, string expected) =>
        Values(line).Single().Value.ShouldBe(expected);

    [Theory]
    [InlineData("BROKEN=\"never closed", "never closed")]
    [InlineData("AFTER=\"x\"trailing", "after the closing quote")]
    [InlineData("no equals sign here", "expected KEY=VALUE")]
    [InlineData("1BAD=x", "expected KEY=VALUE")]
    public void Reports_unreadable_lines_with_their_line_number(string line, string problem)
    {
        var result = DotEnvParser.Parse("OK=1\n" + line, ".env");

        result.Problems.ShouldHaveSingleItem().ShouldContain(problem);
        result.Problems[0].ShouldContain("line 2");
        result.Entries.ShouldHaveSingleItem().Key.ShouldBe("OK");
    }

    [Fact]
    public void A_problem_never_echoes_the_value()
    {
        var result = DotEnvParser.Parse("DIFY_PASSWORD=\"s3cret-value", ".env");

        result.Problems.ShouldHaveSingleItem().ShouldNotContain("s3cret-value");
    }
}
