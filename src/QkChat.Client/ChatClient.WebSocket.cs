using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace QkChat.Client;

public sealed partial class ChatClient
{
    /// <summary>
    /// Opens a connection over the server's WebSocket gateway (protocol.md §11: <c>ws://host:8081/ws</c>, or
    /// <c>wss://</c> when the web listener serves TLS), within <see cref="ChatClientOptions.ConnectTimeout"/>. Everything
    /// else behaves as over TCP. <see cref="ChatClientOptions.LocalAddress"/> binds the source address and
    /// <see cref="ChatClientOptions.CertificateValidation"/> checks the server's certificate; <paramref name="origin"/>
    /// is sent as the Origin header (browsers always send one; other clients need not).
    /// </summary>
    public static async Task<ChatClient> ConnectWebSocketAsync(Uri uri, ChatClientOptions? options = null, string? origin = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= DefaultOptions;
        Socket? socket = null;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, token) =>
            {
                var s = options.LocalAddress is { } local
                    ? new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }
                    : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    if (options.LocalAddress is { } bindTo)
                    {
                        DeferPortChoice(s);
                        s.Bind(new IPEndPoint(bindTo, 0));
                    }
                    await s.ConnectAsync(context.DnsEndPoint, token).ConfigureAwait(false);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
                socket = s;
                return new NetworkStream(s, ownsSocket: true);
            },
        };
        if (options.CertificateValidation is { } validate) handler.SslOptions.RemoteCertificateValidationCallback = validate;
        if (options.TlsTargetHost is { } target) handler.SslOptions.TargetHost = target;
        var ws = new ClientWebSocket();
        // The chat protocol has its own heartbeat (protocol.md §4); the server pings idle connections itself.
        ws.Options.KeepAliveInterval = TimeSpan.Zero;
        if (origin is not null) ws.Options.SetRequestHeader("Origin", origin);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.ConnectTimeout);
        try
        {
            using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
            await ws.ConnectAsync(uri, invoker, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            ws.Dispose();
            throw new TimeoutException($"connecting to {uri} took longer than {options.ConnectTimeout.TotalSeconds:0.###} s");
        }
        catch
        {
            ws.Dispose();
            throw;
        }
        var client = new ChatClient(socket!, new WebSocketFramingStream(ws, options.MaxFrameBytes), options);
        client._readLoop = client.ReadLoopAsync();
        return client;
    }

    /// <summary>The close code the server sent over the WebSocket (1009, 1003, ...), or null (TCP, or none yet).</summary>
    public WebSocketCloseStatus? WebSocketCloseStatus => (_stream as WebSocketFramingStream)?.CloseStatus;
}
