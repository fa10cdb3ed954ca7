using DifyUsageExporter.Dify;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>Parsing what Dify hands out: Set-Cookie names, JWT expiry, versions, wall-clock filters.</summary>
public partial class DifyAuthTests
{
    [Fact]
    public void Set_cookie_parsing_keeps_exact_names_and_detects_deletion()
    {
        DifyTokens.ParseSetCookie("__Host-access_token=abc.def; Expires=Fri, 21 Nov 2025 10:00:00 GMT; Max-Age=3600; Secure; HttpOnly; Path=/; SameSite=Lax")
            .ShouldBe(new ReceivedCookie("__Host-access_token", "abc.def", false));
        DifyTokens.ParseSetCookie("csrf_token=; Max-Age=0; Path=/")!.Value.Deletes.ShouldBeTrue();
        DifyTokens.ParseSetCookie("refresh_token=x=y; Domain=example.com").ShouldBe(new ReceivedCookie("refresh_token", "x=y", false));
        DifyTokens.BaseName("__Host-csrf_token").ShouldBe("csrf_token");
        DifyTokens.ParseSetCookie("garbage").ShouldBeNull();
    }

    [Fact]
    public void Jwt_expiry_and_version_parsing()
    {
        // From the login fixture: exp 1763719200.
        const string jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiOGYyYzFkM2UtNGI1YS00YzZkLTllN2YtMGExYjJjM2Q0ZTVmIiwiZXhwIjoxNzYzNzE5MjAwLCJpc3MiOiJTRUxGX0hPU1RFRCIsInN1YiI6IkNvbnNvbGUgQVBJIFBhc3Nwb3J0In0.DAo7gCJajrngm0_2W9NXnck8kvtwy0Lm30QiZBAv3c8";
        DifyTokens.JwtExpiry(jwt).ShouldBe(DateTimeOffset.FromUnixTimeSeconds(1763719200));
        DifyTokens.JwtExpiry("5c0f9a71e3b4").ShouldBeNull();
        DifyTokens.ParseVersion("1.11.1").ShouldBe(new Version(1, 11, 1));
        DifyTokens.ParseVersion("v1.9.2-fix.1").ShouldBe(new Version(1, 9, 2));
        DifyTokens.ParseVersion("2").ShouldBe(new Version(2, 0));
        DifyTokens.ParseVersion(null).ShouldBeNull();
        DifyTokens.EncodePassword("S3cure-Passw0rd!").ShouldBe("UzNjdXJlLVBhc3N3MHJkIQ==");
    }

    [Fact]
    public void Wall_clock_filter_is_in_the_account_zone_and_steps_back_in_ambiguous_hours()
    {
        var tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
        DifyConsoleClient.WallClock(new DateTimeOffset(2025, 11, 20, 14, 0, 0, TimeSpan.Zero), tokyo).ShouldBe("2025-11-20 23:00");
        var ny = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        // 05:30 UTC on 2025-11-02 = 01:30 EDT, an ambiguous local time.
        DifyConsoleClient.WallClock(new DateTimeOffset(2025, 11, 2, 5, 30, 0, TimeSpan.Zero), ny).ShouldBe("2025-11-02 00:30");
        Iso.InstantSeconds(new DateTimeOffset(2025, 11, 21, 9, 0, 0, TimeSpan.FromHours(9))).ShouldBe("2025-11-21T00:00:00Z");
    }
}
