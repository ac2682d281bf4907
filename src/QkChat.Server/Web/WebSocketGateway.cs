using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using QkChat.Transport;

namespace QkChat.Server.Web;

/// <summary>
/// `GET /ws` (protocol.md §11): checks the Origin, answers the RFC 6455 handshake itself (Kestrel's WebSocket
/// middleware would put its own WebSocket object, buffers and keepalive timer between us and the bytes), and hands
/// the connection to the transport engine, where it is a session on a reactor like a TCP one. No extension is
/// accepted, so no compression. A connection whose first request is a plain upgrade never reaches the HTTP layer:
/// <see cref="WebSocketConnectionMiddleware"/> answers it with the transport's own pipes. <see cref="HandleAsync"/>
/// serves the rest: refusals (403, 426) and an upgrade that came after other requests on a kept-alive connection or
/// that the middleware's narrow parser left to Kestrel; that request stays open until the connection has closed.
/// </summary>
public sealed partial class WebSocketGateway(TransportEngine engine, HttpOptions options, ILogger logger)
{
    // Segments of 4 KiB (a burst of chat frames) from the shared pool, held only while bytes are in them: the reader
    // waits with a zero-byte read before renting one, and the writer gives its segments back after each flush, so an
    // idle connection holds none.
    private static readonly StreamPipeReaderOptions ReaderOptions = new(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true);
    private static readonly StreamPipeWriterOptions WriterOptions = new(minimumBufferSize: 4096, leaveOpen: true);

    private readonly WebSocketCodec _codec = new(TimeSpan.FromSeconds(options.PingIntervalSeconds));
    private readonly OriginPolicy _origins = OriginPolicy.Parse(options.AllowedOrigins);
    private readonly byte[] _busy = BusyAnswer(engine.Options.BusyBody.Span);

    public WebSocketCodec Codec => _codec;

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var remote = context.Connection.RemoteIpAddress ?? IPAddress.None;
        string origin = request.Headers.Origin.ToString();
        if (!OriginAllowed(origin, request.Scheme, request.Host.Value ?? ""))
        {
            // Cross-site WebSocket hijacking: another site's page would talk to us with this user's cookies and address.
            LogOriginRefused(logger, origin, remote);
            await Refuse(context, StatusCodes.Status403Forbidden, "origin not allowed\n");
            return;
        }
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        string key = request.Headers.SecWebSocketKey.ToString();
        if (upgrade is null || !upgrade.IsUpgradableRequest || !HttpMethods.IsGet(request.Method)
            || !request.Headers.Upgrade.ToString().Equals("websocket", StringComparison.OrdinalIgnoreCase) || !WebSocketHandshake.IsValidKey(key))
        {
            context.Response.Headers.Upgrade = "websocket";
            await Refuse(context, StatusCodes.Status426UpgradeRequired, "a WebSocket upgrade (RFC 6455) is expected here\n");
            return;
        }
        if (request.Headers.SecWebSocketVersion.ToString() != "13")
        {
            context.Response.Headers.SecWebSocketVersion = "13";
            await Refuse(context, StatusCodes.Status426UpgradeRequired, "Sec-WebSocket-Version 13 is expected\n");
            return;
        }
        context.Response.Headers.Upgrade = "websocket";
        context.Response.Headers.Connection = "Upgrade";
        context.Response.Headers.SecWebSocketAccept = WebSocketHandshake.Accept(key);
        // 101 Switching Protocols. After it only the returned stream carries the connection (the request and response
        // pipes refuse reads and writes); pipes over it give the engine non-blocking TryRead and one write per flush.
        var upgraded = await upgrade.UpgradeAsync();
        var input = PipeReader.Create(upgraded, ReaderOptions);
        var output = PipeWriter.Create(upgraded, WriterOptions);
        var closed = Adopt(input, output, remote);
        if (closed is null)
        {
            await WriteBusyAsync(output, context.RequestAborted);
            return;
        }
        await closed;
    }

    /// <summary>The Origin decision of both ways in (<see cref="WebSocketHandshake.OriginAllowed"/>) under http.allowed_origins.</summary>
    internal bool OriginAllowed(string origin, string scheme, string host) => WebSocketHandshake.OriginAllowed(_origins, origin, scheme, host);

    /// <summary>
    /// A session on a reactor over <paramref name="input"/> and <paramref name="output"/> (or sending straight to the
    /// plain <paramref name="socket"/>); null when a connection limit refuses it.
    /// </summary>
    internal Task? Adopt(PipeReader input, PipeWriter output, IPAddress remote, Socket? socket = null) =>
        engine.AdoptWebSocket(input, output, remote, _codec, out _, socket);

    /// <summary>Over a connection limit (protocol.md §4): SERVER_BUSY, then close code 1013 (try again later).</summary>
    internal async Task WriteBusyAsync(PipeWriter output, CancellationToken ct) => await output.WriteAsync(_busy, ct);

    private static Task Refuse(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }

    private static byte[] BusyAnswer(ReadOnlySpan<byte> body) =>
        [.. body.IsEmpty ? [] : WebSocketCodec.FrameWhole(FrameKind.Text, body), .. CloseBytes(WebSocketCodec.TryAgainLater)];

    private static byte[] CloseBytes(ushort code) => WebSocketCodec.FrameWhole(FrameKind.Close, [(byte)(code >> 8), (byte)code]);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WebSocket upgrade refused with 403: Origin {Origin} is not in http.allowed_origins (client {Remote})")]
    private static partial void LogOriginRefused(ILogger logger, string origin, IPAddress remote);
}
