using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using QkChat.Protocol;

namespace QkChat.Client;

/// <summary>
/// One connection to a QkChat server (protocol.md §1-2): framed JSON requests matched to responses by request_id,
/// with pushes and unmatched responses kept for <see cref="ReceiveAnyAsync"/>. Thread-safe: any number of
/// concurrent senders; one background read loop per client. Split by direction into partial files
/// (Send, Receive, Inbox), the shape StackExchange.Redis uses for its connection.
/// </summary>
public sealed partial class ChatClient : IAsyncDisposable
{
    private static readonly ChatClientOptions DefaultOptions = new();

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly ChatClientOptions _options;
    private readonly TaskCompletionSource<ChatCloseInfo> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ChatCloseInfo? _closeInfo;
    private Task _readLoop = Task.CompletedTask;

    private ChatClient(Socket socket, Stream stream, ChatClientOptions options)
    {
        _socket = socket;
        _stream = stream;
        _options = options;
        LocalEndPoint = socket.LocalEndPoint as IPEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint as IPEndPoint;
        _lastWrite = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    /// <summary>Completes (never faults) when the connection ends, with the reason: server EOF, reset, protocol error or local close.</summary>
    public Task<ChatCloseInfo> Closed => _closed.Task;

    /// <summary>True until the connection has ended for any reason.</summary>
    public bool IsConnected => Volatile.Read(ref _closeInfo) is null;

    /// <summary>Why the connection ended, or null while it is open.</summary>
    public ChatCloseInfo? CloseInfo => Volatile.Read(ref _closeInfo);

    public IPEndPoint? LocalEndPoint { get; }

    public IPEndPoint? RemoteEndPoint { get; }

    /// <summary>Opens a connection (TCP, then TLS if asked) within <see cref="ChatClientOptions.ConnectTimeout"/>.</summary>
    /// <exception cref="TimeoutException">Connect or handshake took longer than the timeout.</exception>
    /// <exception cref="SocketException">Refused, unreachable, or the source address could not be bound.</exception>
    public static async Task<ChatClient> ConnectAsync(string host, int port, ChatClientOptions? options = null,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        options ??= DefaultOptions;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxFrameBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxUnsolicited);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReceiveBufferBytes, Framing.HeaderSize + 1);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.ConnectTimeout);
        try
        {
            IPAddress[] addresses = IPAddress.TryParse(host, out IPAddress? literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(host, deadline.Token).ConfigureAwait(false);
            if (options.LocalAddress is { } local)
                addresses = Array.FindAll(addresses, a => a.AddressFamily == local.AddressFamily);
            if (addresses.Length == 0)
                throw new SocketException((int)SocketError.HostNotFound);

            Exception? last = null;
            foreach (IPAddress address in addresses)
            {
                try
                {
                    return await ConnectOneAsync(new IPEndPoint(address, port), host, options, deadline.Token).ConfigureAwait(false);
                }
                catch (SocketException e)
                {
                    last = e;
                }
            }
            throw last!;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"connecting to {host}:{port} took longer than {options.ConnectTimeout.TotalSeconds:0.###} s");
        }
    }

    private static async Task<ChatClient> ConnectOneAsync(IPEndPoint remote, string host, ChatClientOptions options,
        CancellationToken ct)
    {
        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            if (options.LocalAddress is { } local)
            {
                DeferPortChoice(socket);
                socket.Bind(new IPEndPoint(local, 0));
            }
            await socket.ConnectAsync(remote, ct).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (options.UseTls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = options.TlsTargetHost ?? host,
                    RemoteCertificateValidationCallback = options.CertificateValidation,
                }, ct).ConfigureAwait(false);
            }
            var client = new ChatClient(socket, stream, options);
            client._readLoop = client.ReadLoopAsync();
            return client;
        }
        catch
        {
            if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Linux IP_BIND_ADDRESS_NO_PORT: a bind to port 0 then picks the port at connect time from the full 4-tuple,
    /// instead of reserving one per bind. Without it, binding many sockets to one source address exhausts the
    /// ephemeral range early (EADDRINUSE) even though each connection's tuple would be unique.
    /// </summary>
    private static void DeferPortChoice(Socket socket)
    {
        if (!OperatingSystem.IsLinux()) return;
        const int SolIp = 0;                   // IPPROTO_IP, also honoured on IPv6 sockets for this option
        const int IpBindAddressNoPort = 24;    // include/uapi/linux/in.h
        try
        {
            socket.SetRawSocketOption(SolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
        }
        catch (SocketException)
        {
            // Kernels before 4.2 lack it: fall back to the plain bind, which still works for fewer connections.
        }
    }

    /// <summary>Closes the connection, fails pending requests, and waits for the read loop to end.</summary>
    public async ValueTask DisposeAsync()
    {
        Close(new ChatCloseInfo(ChatCloseReason.LocalClose, "disposed"));
        await _readLoop.ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the connection once: the first reason wins. Pending requests fail, the inbox is completed (what it holds
    /// can still be read), the socket is released, and <see cref="Closed"/> completes.
    /// </summary>
    private void Close(ChatCloseInfo info)
    {
        if (Interlocked.CompareExchange(ref _closeInfo, info, null) is not null) return;
        FailPending(info);
        Volatile.Read(ref _inbox)?.Writer.TryComplete();
        try
        {
            // Disposing the stream (TLS first) releases the socket too, which ends the pending read of the loop.
            _stream.Dispose();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The stream is already broken; disposal only released what was left.
        }
        _socket.Dispose();
        _closed.TrySetResult(info);
    }

    private void ThrowIfClosed()
    {
        if (Volatile.Read(ref _closeInfo) is { } info) throw new ChatConnectionClosedException(info);
    }
}
