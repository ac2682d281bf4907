using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Text.Json;
using QkChat.Core.Dispatch;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Transport;
using Xunit;

namespace QkChat.IntegrationTests.Transport;

/// <summary>The original server's TLS "on" never started; ours must carry the same frames and refuse what is not TLS.</summary>
public sealed class TlsTests
{
    private static InProcessServer StartTls(bool ecdsa, TimeSpan? handshakeTimeout = null, Action<ActionRouter, Dispatcher>? routes = null)
    {
        var (cert, key) = TestCertificates.Write(ecdsa);
        return InProcessServer.Start(t => t.Tls = new TlsListenerOptions
        {
            Port = 0,
            CertificatePemFile = cert,
            KeyPemFile = key,
            HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(10),
        }, routes: routes);
    }

    private static async Task<SslStream> ConnectTlsAsync(InProcessServer server)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.Engine.TlsEndPoint!, TestContext.Current.CancellationToken);
        var ssl = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, TestContext.Current.CancellationToken);
        return ssl;
    }

    /// <summary>
    /// A TLS server with a test action `slow`, answered off the reactor once <paramref name="release"/> completes (input
    /// stays paused meanwhile); <paramref name="reached"/> completes when the first `slow` is being handled.
    /// </summary>
    private static InProcessServer StartTlsWithSlowAction(TaskCompletionSource reached, TaskCompletionSource release) =>
        StartTls(ecdsa: true, routes: (router, dispatcher) => router.Register("slow", true, ctx =>
        {
            var pending = ctx.BeginAsync();
            reached.TrySetResult();
            _ = release.Task.ContinueWith(_ => pending.Complete("OK", "slow done"), TaskScheduler.Default);
        }));

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// A request answered later pauses the connection while the frames behind it sit in the same TLS record: the rest
    /// of that decrypted chunk must wait in the stream and be read after the answer, in request order.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task Requests_behind_a_slow_one_in_the_same_record_are_answered_after_it_in_order()
    {
        TaskCompletionSource reached = NewSignal(), release = NewSignal();
        await using var server = StartTlsWithSlowAction(reached, release);
        await using var ssl = await ConnectTlsAsync(server);
        byte[] batch =
        [
            .. RawClient.Heartbeat("1"),
            .. RawClient.Frame("""{"action":"slow","request_id":"2"}"""),
            .. RawClient.Heartbeat("3"),
            .. RawClient.Frame("""{"action":"slow","request_id":"4"}"""),
            .. RawClient.Heartbeat("5"),
        ];
        await ssl.WriteAsync(batch, TestContext.Current.CancellationToken); // one record
        await ssl.FlushAsync(TestContext.Current.CancellationToken);
        // The first `slow` holds the rest of the record back until it is answered.
        await reached.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        release.SetResult();
        for (int i = 1; i <= 5; i++)
        {
            var response = await ReadFrameAsync(ssl);
            Assert.Equal(i.ToString(), response.Str("request_id"));
            Assert.Equal("OK", response.Str("code"));
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_client_completes_the_handshake_and_exchanges_heartbeats(bool ecdsa)
    {
        await using var server = StartTls(ecdsa);
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.Engine.TlsEndPoint!, TestContext.Current.CancellationToken);
        await using var ssl = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, TestContext.Current.CancellationToken);

        // Several frames in one record, then one frame split across two records.
        byte[] twoFrames = [.. RawClient.Heartbeat("1"), .. RawClient.Heartbeat("2")];
        await ssl.WriteAsync(twoFrames, TestContext.Current.CancellationToken);
        byte[] third = RawClient.Heartbeat("3");
        await ssl.WriteAsync(third.AsMemory(0, 5), TestContext.Current.CancellationToken);
        await ssl.FlushAsync(TestContext.Current.CancellationToken);
        await Task.Delay(20, TestContext.Current.CancellationToken);
        await ssl.WriteAsync(third.AsMemory(5), TestContext.Current.CancellationToken);
        foreach (string id in new[] { "1", "2", "3" })
        {
            var response = await ReadFrameAsync(ssl);
            Assert.Equal(id, response.Str("request_id"));
            Assert.Equal("OK", response.Str("code"));
        }
        Assert.Equal(1, server.Engine.OpenConnections);
        Assert.True(server.Engine.Reactors.Sum(r => r.Stats.BytesIn) > 0);

        // Per-listener counts (qkchat_connections{listener=...}): a plain client beside it is not counted as TLS.
        using var plain = await RawClient.ConnectAsync(server.Port);
        await plain.SendAsync(RawClient.Heartbeat("plain"));
        Assert.Equal("OK", (await plain.ReadAsync()).Str("code"));
        Assert.Equal(2, server.Engine.OpenConnections);
        Assert.Equal(1, server.Engine.Reactors.Sum(r => r.Stats.OpenTlsConnections));
        Assert.Equal(1, server.Engine.Reactors.Sum(r => r.Stats.AcceptedTls));
    }

    /// <summary>
    /// The decrypted chunk can be larger than the free end of the receive block (2,000 bytes of a large frame are
    /// already buffered), so part of it is still in the TLS stream when a slow request pauses the connection. After the
    /// answer, that rest must be read without waiting for the client to send anything more.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task A_chunk_partly_left_in_the_stream_by_a_pause_is_read_after_the_answer()
    {
        TaskCompletionSource reached = NewSignal(), release = NewSignal();
        await using var server = StartTlsWithSlowAction(reached, release);
        await using var ssl = await ConnectTlsAsync(server);
        byte[] large = RawClient.Frame($$"""{"action":"heartbeat","request_id":"0","padding":"{{new string('x', 3000)}}"}""");
        await ssl.WriteAsync(large.AsMemory(0, 2000), TestContext.Current.CancellationToken); // first record
        await ssl.FlushAsync(TestContext.Current.CancellationToken);
        // The first record is in the receive block before the second is sent (so the second's chunk overflows the block).
        await server.EventuallyAsync(() => server.Engine.Reactors.Sum(r => r.Stats.BytesIn) >= 2000, "first record received");
        const int behind = 50;
        byte[] second =
        [
            .. large.AsSpan(2000),
            .. RawClient.Frame("""{"action":"slow","request_id":"slow"}"""),
            .. Enumerable.Range(1, behind).SelectMany(i => RawClient.Heartbeat(i.ToString())),
        ];
        Assert.InRange(second.Length, 2200, 4000); // more than the block's free 2,096 bytes, within one 4 KiB chunk
        await ssl.WriteAsync(second, TestContext.Current.CancellationToken); // second record
        await ssl.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Equal("0", (await ReadFrameAsync(ssl)).Str("request_id"));
        await reached.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        release.SetResult();
        Assert.Equal("slow", (await ReadFrameAsync(ssl)).Str("request_id"));
        for (int i = 1; i <= behind; i++) Assert.Equal(i.ToString(), (await ReadFrameAsync(ssl)).Str("request_id"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_plaintext_client_on_the_tls_port_is_closed_cleanly_and_its_slot_released()
    {
        await using var server = StartTls(ecdsa: true);
        using var client = await RawClient.ConnectAsync(server.Engine.TlsEndPoint!.Port);
        await client.SendAsync(RawClient.Heartbeat("plain"));
        Assert.True(await client.ClosedAsync());
        await server.EventuallyAsync(() => server.Engine.TlsHandshakeFailures == 1 && server.Engine.Limiter.Total == 0, "refused and released");
        Assert.Equal(0, server.Engine.OpenConnections);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_stalled_handshake_is_timed_out()
    {
        await using var server = StartTls(ecdsa: true, handshakeTimeout: TimeSpan.FromSeconds(1));
        using var client = await RawClient.ConnectAsync(server.Engine.TlsEndPoint!.Port);
        Assert.True(await client.ClosedAsync(TimeSpan.FromSeconds(5)));
        await server.EventuallyAsync(() => server.Engine.Limiter.Total == 0, "slot released");
    }

    private static async Task<JsonElement> ReadFrameAsync(SslStream ssl)
    {
        var header = new byte[4];
        await ssl.ReadExactlyAsync(header, TestContext.Current.CancellationToken);
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(header)];
        await ssl.ReadExactlyAsync(body, TestContext.Current.CancellationToken);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }
}
