using System.Net.Security;
using System.Net.Sockets;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Server;

/// <summary>issue 16: TLS without the plain listener, and the warning when plain TCP is exposed next to TLS.</summary>
public sealed class TlsOnlyTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static Dictionary<string, string> TlsEnvironment(string database, int plainPort, int tlsPort)
    {
        var (cert, key) = TestCertificates.Write(ecdsa: true);
        var env = ServerProcess.StackEnvironment(database, plainPort);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["QKCHAT_TLS_ENABLED"] = "true";
        env["QKCHAT_TLS_PORT"] = tlsPort.ToString();
        env["QKCHAT_TLS_CERT_FILE"] = cert;
        env["QKCHAT_TLS_KEY_FILE"] = key;
        return env;
    }

    [Fact(Timeout = 60_000)]
    public async Task With_the_plain_listener_off_the_plain_port_refuses_and_tls_serves()
    {
        await using var db = await TempDatabase.CreateAsync();
        int plainPort = ServerProcess.FreePort(), tlsPort = ServerProcess.FreePort();
        var env = TlsEnvironment(db.Name, plainPort, tlsPort);
        env["QKCHAT_PLAIN_TCP"] = "false";
        await using var p = ServerProcess.Start(env);
        await p.WaitForOutputAsync("ready: serving chat", Patience).WaitAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("listening (TCP)", p.Output);

        using (var plain = new TcpClient())
        {
            var refused = await Assert.ThrowsAsync<SocketException>(
                async () => await plain.ConnectAsync("127.0.0.1", plainPort, TestContext.Current.CancellationToken));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", tlsPort, TestContext.Current.CancellationToken);
        await using var ssl = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, TestContext.Current.CancellationToken);
        await ssl.WriteAsync(RawClient.Heartbeat("tls-only"), TestContext.Current.CancellationToken);
        var header = new byte[4];
        await ssl.ReadExactlyAsync(header, TestContext.Current.CancellationToken);
        var body = new byte[System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header)];
        await ssl.ReadExactlyAsync(body, TestContext.Current.CancellationToken);
        Assert.Contains("\"request_id\":\"tls-only\"", System.Text.Encoding.UTF8.GetString(body));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_plain_listener_cannot_be_off_without_tls()
    {
        var env = ServerProcess.StackEnvironment("qkchat_test", ServerProcess.FreePort());
        env["QKCHAT_PLAIN_TCP"] = "false";
        await using var p = ServerProcess.Start(env, "check-config");
        Assert.Equal(2, await p.WaitForExitAsync(Patience).WaitAsync(TestContext.Current.CancellationToken));
        Assert.Contains("server.plain_tcp", p.Output);
        Assert.Contains("tls.enabled", p.Output);
    }

    /// <summary>0.0.0.0 is a non-loopback bind that a test may still listen on: only loopback clients reach it here.</summary>
    [Theory(Timeout = 60_000)]
    [InlineData("0.0.0.0", true)]
    [InlineData("127.0.0.1", false)]
    public async Task Plain_tcp_beside_tls_off_loopback_is_warned_about_at_start(string host, bool warned)
    {
        await using var db = await TempDatabase.CreateAsync();
        var env = TlsEnvironment(db.Name, ServerProcess.FreePort(), ServerProcess.FreePort());
        env["QKCHAT_HOST"] = host;
        await using var p = ServerProcess.Start(env);
        await p.WaitForOutputAsync("ready: serving chat", Patience).WaitAsync(TestContext.Current.CancellationToken);
        const string Warning = "plain TCP listener";
        if (warned)
        {
            Assert.Contains(Warning, p.Output);
            Assert.Contains("server.plain_tcp=false", p.Output);
        }
        else
        {
            Assert.DoesNotContain(Warning, p.Output);
        }
    }
}
