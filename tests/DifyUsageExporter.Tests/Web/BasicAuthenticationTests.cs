using System.Text;
using DifyUsageExporter.Web;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Web;

public class BasicAuthenticationTests
{
    private static readonly BasicAuthentication Auth = new("ops", "pa:ss wörd");

    private static string Header(string credentials, string scheme = "Basic") => $"{scheme} {Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials))}";

    [Theory]
    [InlineData("ops:pa:ss wörd", "Basic", true)]
    [InlineData("ops:pa:ss wörd", "basic", true)]
    [InlineData("ops:pa:ss word", "Basic", false)]
    [InlineData("Ops:pa:ss wörd", "Basic", false)]
    [InlineData("ops:", "Basic", false)]
    [InlineData("ops", "Basic", false)]
    [InlineData(":pa:ss wörd", "Basic", false)]
    [InlineData("ops:pa:ss wörd", "Bearer", false)]
    public void Only_the_exact_user_and_password_pass(string credentials, string scheme, bool expected) =>
        Auth.IsAuthorized(Header(credentials, scheme)).ShouldBe(expected);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Basic")]
    [InlineData("Basic !!!not-base64")]
    public void A_missing_or_malformed_header_does_not_pass(string? header) => Auth.IsAuthorized(header).ShouldBeFalse();
}
