using System.Net.Security;
using System.Net.Sockets;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Server;

/// <summary>TLS through the real qkchatd binary: under AOT, OpenSSL is loaded only at the first handshake.</summary>
public sealed class TlsStartupTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_binary_serves_heartbeats_over_tls_when_enabled()
    {
        await using var db = await TempDatabase.CreateAsync();
        var (cert, key) = TestCertificates.Write(ecdsa: true);
        int tlsPort = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, ServerProcess.FreePort());
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["QKCHAT_TLS_ENABLED"] = "true";
        env["QKCHAT_TLS_PORT"] = tlsPort.ToString();
        env["QKCHAT_TLS_CERT_FILE"] = cert;
        env["QKCHAT_TLS_KEY_FILE"] = key;
        await using var p = ServerProcess.Start(env);
        await p.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(30));
        Assert.Contains("listening (TLS)", p.Output);

        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", tlsPort, TestContext.Current.CancellationToken);
        await using var ssl = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, TestContext.Current.CancellationToken);
        await ssl.WriteAsync(RawClient.Heartbeat("tls"), TestContext.Current.CancellationToken);
        var header = new byte[4];
        await ssl.ReadExactlyAsync(header, TestContext.Current.CancellationToken);
        var body = new byte[System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header)];
        await ssl.ReadExactlyAsync(body, TestContext.Current.CancellationToken);
        Assert.Contains("\"request_id\":\"tls\"", System.Text.Encoding.UTF8.GetString(body));
        Assert.Contains("\"code\":\"OK\"", System.Text.Encoding.UTF8.GetString(body));
    }
}
