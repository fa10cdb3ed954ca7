using System.Text.Json;
using DifyUsageExporter.Usage;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Usage;

public class DifyPriceTests
{
    [Theory]
    [InlineData("\"0.0003837\"", "0.0003837")]
    [InlineData("\"6E-7\"", "0.0000006")]
    [InlineData("\"0E-7\"", "0")]
    [InlineData("\"0.0000000\"", "0")]
    [InlineData("\"1.5e-3\"", "0.0015")]
    [InlineData("0.0039600", "0.00396")]
    [InlineData("6e-07", "0.0000006")]
    [InlineData("12", "12")]
    public void Parses_strings_with_and_without_exponents_and_json_numbers(string json, string expected)
    {
        using var doc = JsonDocument.Parse(json);
        DifyPrice.Parse(doc.RootElement).ShouldBe(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("null")]
    [InlineData("\"\"")]
    [InlineData("\"n/a\"")]
    [InlineData("{}")]
    public void Null_empty_and_garbage_are_null(string json)
    {
        using var doc = JsonDocument.Parse(json);
        DifyPrice.Parse(doc.RootElement).ShouldBeNull();
    }

    [Fact]
    public void Parsing_ignores_the_current_culture()
    {
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
            DifyPrice.Parse("0.5").ShouldBe(0.5m);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }
}
