using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using QkChat.Client;
using Xunit;
using static QkChat.Tests.Client.Waits;

namespace QkChat.Tests.Client;

public sealed class ChatClientConnectTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_source_address_can_be_chosen()
    {
        using var server = new FakeServer();
        var accepted = server.AcceptAsync();
        await using var client = await ChatClient.ConnectAsync("127.0.0.1", server.Port,
            new ChatClientOptions { LocalAddress = IPAddress.Parse("127.0.0.5") }, ct: Ct);
        await using var connection = await accepted.Within();

        Assert.Equal(IPAddress.Parse("127.0.0.5"), ((IPEndPoint)connection.Socket.RemoteEndPoint!).Address);
        Assert.Equal(IPAddress.Parse("127.0.0.5"), client.LocalEndPoint!.Address);
        Assert.True(connection.Socket.NoDelay);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_refused_connection_throws_a_socket_exception()
    {
        int port;
        using (var probe = new FakeServer()) port = probe.Port;   // a port that was free a moment ago, now closed
        var error = await Assert.ThrowsAsync<SocketException>(() => ChatClient.ConnectAsync("127.0.0.1", port, ct: Ct));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task Tls_with_a_self_signed_certificate_and_a_validation_callback()
    {
        using X509Certificate2 certificate = SelfSigned("qkchat.test");
        using var server = new FakeServer();
        var accepted = server.AcceptAsync(certificate);
        string? seenSubject = null;
        await using var client = await ChatClient.ConnectAsync("127.0.0.1", server.Port, new ChatClientOptions
        {
            UseTls = true,
            TlsTargetHost = "qkchat.test",
            CertificateValidation = (_, cert, _, _) =>
            {
                seenSubject = cert?.Subject;
                return true;
            },
        }, ct: Ct);
        await using var connection = await accepted.Within();
        _ = connection.EchoUntilClosedAsync();

        var envelope = await client.RequestAsync("echo", w => w.WriteNumber("n", 7), ct: Ct).Within();
        Assert.Equal(7, envelope.Data!.Value.GetProperty("n").GetInt32());
        Assert.Equal("CN=qkchat.test", seenSubject);
    }

    [Fact(Timeout = 60_000)]
    public async Task Tls_refuses_an_untrusted_certificate_by_default()
    {
        using X509Certificate2 certificate = SelfSigned("qkchat.test");
        using var server = new FakeServer();
        _ = server.AcceptAsync(certificate);
        await Assert.ThrowsAsync<System.Security.Authentication.AuthenticationException>(() =>
            ChatClient.ConnectAsync("127.0.0.1", server.Port, new ChatClientOptions { UseTls = true, TlsTargetHost = "qkchat.test" }, ct: Ct));
    }

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }
}
