using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace QkChat.Server.Web;

/// <summary>
/// Kestrel connection middleware (after TLS, before HTTP) that answers a connection's first request itself when it is a
/// plain WebSocket upgrade to `/ws` (<see cref="UpgradeRequest"/>), and hands the connection's own transport pipes to
/// the reactor. Kestrel's HTTP/1.1 connection, the HttpContext and the request delegate waiting on the upgraded stream
/// are never made for it: they were most of the 11 KB an idle WebSocket connection cost through the HTTP stack, and
/// the upgraded stream put two more copies and four async layers on every message (bench/RESULTS.md, issue 20).
/// Every other first request, and an upgrade this one turns down (a foreign Origin among them), goes on to Kestrel's
/// HTTP layer unread, where <see cref="WebSocketGateway.HandleAsync"/> and the other routes serve it as before.
/// </summary>
internal sealed class WebSocketConnectionMiddleware(WebSocketGateway gateway, bool tls)
{
    /// <summary>Kestrel's default RequestHeadersTimeout: a client slower than this with its handshake goes to Kestrel, which applies its own.</summary>
    private static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(30);

    private readonly string _scheme = tls ? "https" : "http";

    public async Task OnConnectionAsync(ConnectionContext connection, Func<Task> next)
    {
        var input = connection.Transport.Input;
        var (request, headerLength) = await PeekAsync(input, connection.ConnectionClosed);
        if (request is not { } upgrade || !gateway.OriginAllowed(upgrade.Origin, _scheme, upgrade.Host))
        {
            await next();
            return;
        }
        // The handshake is ours: drop it from the pipe (what follows it is the client's first frames), answer 101.
        var read = await input.ReadAsync();
        input.AdvanceTo(read.Buffer.GetPosition(headerLength));
        var output = connection.Transport.Output;
        // A plain listener's socket takes the reactor's sends directly (WebSocketPipeStream: no output pipe, no send
        // loop hand-off). The 101 goes the same way, so nothing of ours is ever in Kestrel's output pipe, which its
        // send loop could still be writing when the first frame goes out. Under TLS the socket carries ciphertext: pipes.
        var socket = tls ? null : connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is not null)
        {
            if (!await SendSwitchingProtocolsAsync(socket, upgrade)) return;
        }
        else
        {
            int n = upgrade.WriteSwitchingProtocols(output.GetSpan(UpgradeRequest.SwitchingProtocolsBytes));
            output.Advance(n);
            var flushed = await output.FlushAsync();
            if (flushed.IsCompleted || flushed.IsCanceled) return;
        }
        var remote = (connection.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
        var closed = gateway.Adopt(input, output, remote, socket);
        if (closed is null)
        {
            await gateway.WriteBusyAsync(output, connection.ConnectionClosed);
            return;
        }
        // Returning ends the connection: Kestrel completes both pipes and closes the socket.
        await closed;
    }

    /// <summary>The 101 answer written to the socket itself; false when the connection is gone.</summary>
    private static async ValueTask<bool> SendSwitchingProtocolsAsync(Socket socket, UpgradeRequest upgrade)
    {
        var answer = new byte[UpgradeRequest.SwitchingProtocolsBytes]; // once per connection, at the handshake
        int n = upgrade.WriteSwitchingProtocols(answer);
        try
        {
            // A stream socket's SendAsync returns once every byte is written (or fails).
            await socket.SendAsync(answer.AsMemory(0, n), SocketFlags.None);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads until the first request's header block is complete or is not ours, without consuming anything: on
    /// <c>null</c> the next layer reads the same bytes from the start (examined is left at the start, so its first
    /// read does not wait for more).
    /// </summary>
    private static async ValueTask<(UpgradeRequest? Request, long HeaderLength)> PeekAsync(PipeReader input, CancellationToken closed)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closed);
        timeout.CancelAfter(HeadersTimeout);
        while (true)
        {
            ReadResult read;
            try
            {
                read = await input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                return (null, 0);
            }
            var buffer = read.Buffer;
            var parse = UpgradeRequest.Parse(buffer, out var request, out long headerLength);
            if (parse == UpgradeParse.Incomplete && !read.IsCompleted && !read.IsCanceled)
            {
                input.AdvanceTo(buffer.Start, buffer.End); // wait for more bytes
                continue;
            }
            input.AdvanceTo(buffer.Start);
            return parse == UpgradeParse.Upgrade ? (request, headerLength) : (null, 0);
        }
    }
}
