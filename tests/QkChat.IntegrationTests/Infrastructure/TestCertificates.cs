using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>Self-signed certificates written as PEM files, the way an operator configures tls.cert_file and tls.key_file.</summary>
internal static class TestCertificates
{
    public static (string CertFile, string KeyFile) Write(bool ecdsa)
    {
        string dir = Directory.CreateTempSubdirectory("qkchat-tls-").FullName;
        using AsymmetricAlgorithm key = ecdsa ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : RSA.Create(2048);
        var subject = new X500DistinguishedName("CN=localhost");
        var request = key is ECDsa ec
            ? new CertificateRequest(subject, ec, HashAlgorithmName.SHA256)
            : new CertificateRequest(subject, (RSA)key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        string certFile = Path.Combine(dir, "cert.pem"), keyFile = Path.Combine(dir, "key.pem");
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certFile, keyFile);
    }
}
