using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Dify;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Dify;

/// <summary>DIFY_CA_CERT_FILE and DIFY_TLS_INSECURE against a real HTTPS Kestrel with a private CA.</summary>
public class DifyTlsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (X509Certificate2 Ca, X509Certificate2 Leaf) CreateCertificates()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Test Dify CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var notBefore = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var ca = caRequest.CreateSelfSigned(notBefore, notBefore.AddYears(30));

        using var leafKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest("CN=127.0.0.1", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        leafRequest.CertificateExtensions.Add(san.Build());
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = leafRequest.Create(ca, notBefore, notBefore.AddYears(20), [1, 2, 3, 4, 5, 6, 7, 8]);
        using var withKey = issued.CopyWithPrivateKey(leafKey);
        var leaf = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12, "p"), "p");
        return (ca, leaf);
    }

    private static async Task<(WebApplication App, Uri Url)> StartHttpsAsync(X509Certificate2 leaf)
    {
        var builder = global::Simulators.LoopbackWeb.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(leaf)));
        var app = builder.Build();
        app.MapGet("/console/api/system-features", () => Results.Json(new { ok = true }));
        await app.StartAsync(Ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }

    [Fact]
    public async Task Private_ca_is_trusted_only_when_configured_and_insecure_mode_is_explicit()
    {
        var (ca, leaf) = CreateCertificates();
        var (app, url) = await StartHttpsAsync(leaf);
        await using var _ = app;
        using var dir = new TempDir();
        var caFile = Path.Combine(dir.Path, "ca.pem");
        await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem(), Ct);
        var logs = new FakeLogs();
        var baseSettings = new ExporterSettings { DifyBaseUrl = url, DifyFetchRetryCount = 0 };

        async Task<string?> VersionAsync(ExporterSettings settings)
        {
            using var client = new DifyConsoleClient(settings, new SecretRegistry(), logs, TimeProvider.System);
            return await client.DetectVersionAsync(Ct);
        }

        // Not trusted by default.
        var untrusted = await Should.ThrowAsync<DifyApiException>(() => VersionAsync(baseSettings));
        DifyDiagnostics.Diagnose(untrusted, baseSettings).Failure.ShouldBe(DifyCheckFailure.Tls);

        // Trusted with DIFY_CA_CERT_FILE (no X-Version here: null, but the request succeeded).
        (await VersionAsync(baseSettings with { DifyCaCertFile = caFile })).ShouldBeNull();

        // A different CA is not enough.
        var (otherCa, _) = CreateCertificates();
        var otherFile = Path.Combine(dir.Path, "other.pem");
        await File.WriteAllTextAsync(otherFile, otherCa.ExportCertificatePem(), Ct);
        await Should.ThrowAsync<DifyApiException>(() => VersionAsync(baseSettings with { DifyCaCertFile = otherFile }));

        // Insecure mode works and is logged loudly.
        (await VersionAsync(baseSettings with { DifyTlsInsecure = true })).ShouldBeNull();
        logs.AllText.ShouldContain("certificate checks are DISABLED");

        // The process-wide default is untouched: a plain HttpClient still refuses the certificate.
        using var plain = new HttpClient();
        await Should.ThrowAsync<HttpRequestException>(() => plain.GetAsync(new Uri(url, "/console/api/system-features"), Ct));
    }

    [Fact]
    public void Unreadable_ca_file_is_a_configuration_error()
    {
        Should.Throw<ConfigurationException>(() => DifyTls.LoadCertificates("/nonexistent/ca.pem")).Message.ShouldContain("DIFY_CA_CERT_FILE");
    }
}
