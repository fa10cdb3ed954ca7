using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Dify;

/// <summary>
/// The HTTP handler of the Dify client only: cookies handled by hand (UseCookies=false), no
/// automatic redirects (a redirect to another host would carry the hand-built Cookie header),
/// and the TLS trust settings DIFY_CA_CERT_FILE / DIFY_TLS_INSECURE applied to this handler
/// alone, never process-wide.
/// </summary>
internal static class DifyTls
{
    public static HttpMessageHandler CreateHandler(ExporterSettings settings, ILogger logger)
    {
        var handler = new HttpClientHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.All,
        };

        if (settings.DifyTlsInsecure)
        {
            DifyLog.TlsInsecure(logger);
            handler.ServerCertificateCustomValidationCallback = static (_, _, _, _) => true;
        }
        else if (!string.IsNullOrWhiteSpace(settings.DifyCaCertFile))
        {
            var roots = LoadCertificates(settings.DifyCaCertFile);
            handler.ServerCertificateCustomValidationCallback = (_, certificate, chain, errors) => Validate(certificate, chain, errors, roots);
        }

        return handler;
    }

    /// <summary>Loads the PEM (or DER) CA file; a clear error names the variable.</summary>
    public static X509Certificate2Collection LoadCertificates(string path)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            var text = File.ReadAllText(path);
            if (text.Contains("-----BEGIN", StringComparison.Ordinal))
            {
                collection.ImportFromPem(text);
            }
            else
            {
                collection.Add(X509CertificateLoader.LoadCertificateFromFile(path));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new ConfigurationException([$"DIFY_CA_CERT_FILE={path} cannot be read as a PEM or DER certificate ({ex.Message}). Point it at the CA certificate (PEM) that signed Dify's certificate."]);
        }

        if (collection.Count == 0)
        {
            throw new ConfigurationException([$"DIFY_CA_CERT_FILE={path} contains no certificate. Point it at the CA certificate (PEM) that signed Dify's certificate."]);
        }

        return collection;
    }

    /// <summary>Accepts a certificate valid for the system trust store, or one that chains to the configured CA (host name must match either way).</summary>
    internal static bool Validate(X509Certificate2? certificate, X509Chain? presented, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(certificate);
    }
}
