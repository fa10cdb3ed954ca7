using DifyUsageExporter.Configuration;
using DifyUsageExporter.Telemetry;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Telemetry;

public class LogMaskerTests
{
    [Theory]
    [InlineData("Authorization: Bearer abc.def-123", "Authorization: ***")]
    [InlineData("sent bearer abc123 upstream", "sent bearer *** upstream")]
    [InlineData("Cookie: session=abc; csrf=def", "Cookie: ***")]
    [InlineData("Set-Cookie: refresh_token=r1; Path=/", "Set-Cookie: ***")]
    [InlineData("GET /x?access_token=a1&refresh_token=r2&csrf_token=c3&page=2", "GET /x?access_token=***&refresh_token=***&csrf_token=***&page=2")]
    [InlineData("{\"email\":\"a@b.c\",\"password\":\"p w d\"}", "{\"email\":\"a@b.c\",\"password\":\"***\"}")]
    [InlineData("{\"access_token\": \"tok\", \"x\": 1}", "{\"access_token\": \"***\", \"x\": 1}")]
    [InlineData("password=hunter2 next", "password=*** next")]
    [InlineData("DIFY_PASSWORD: is required but not set.", "DIFY_PASSWORD: is required but not set.")]
    [InlineData("nothing secret here", "nothing secret here")]
    public void Patterns_mask_credentials_that_were_never_registered(string input, string expected) =>
        new LogMasker(new SecretRegistry()).Apply(input).ShouldBe(expected);

    [Fact]
    public void Registered_secrets_are_masked_anywhere()
    {
        var secrets = new SecretRegistry();
        secrets.Add("s3cr3t-value");

        new LogMasker(secrets).Apply("prefix-s3cr3t-value-suffix").ShouldBe("prefix-***-suffix");
    }
}
