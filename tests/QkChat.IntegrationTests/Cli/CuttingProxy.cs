using System.Net;
using System.Net.Sockets;
using System.Text;

namespace QkChat.IntegrationTests.Cli;

/// <summary>
/// A loopback TCP relay in front of the public HTTP listener that cuts one connection on request, as a dropped link
/// does: armed with a byte count for one direction, the next connection that carries that many bytes that way is
/// closed both ways at that point (once). It also keeps the start of what each connection sent upstream (the first
/// request's head), so a test can see that a resumed download asked for a Range.
/// </summary>
internal sealed class CuttingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly Lock _lock = new();
    private readonly List<string> _heads = [];
    private long _cutUpAfter = -1, _cutDownAfter = -1;
    private int _cuts;

    public CuttingProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections cut so far.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    /// <summary>The next connection that sends <paramref name="bytes"/> upstream (client to server) is cut there.</summary>
    public void CutUpstreamAfter(long bytes) => Interlocked.Exchange(ref _cutUpAfter, bytes);

    /// <summary>The next connection that carries <paramref name="bytes"/> downstream (server to client) is cut there.</summary>
    public void CutDownstreamAfter(long bytes) => Interlocked.Exchange(ref _cutDownAfter, bytes);

    /// <summary>The first bytes (up to 2 KiB, as text) each connection sent upstream.</summary>
    public IReadOnlyList<string> Heads
    {
        get
        {
            lock (_lock) return [.. _heads];
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => RelayAsync(client));
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                using var cut = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                int slot;
                lock (_lock)
                {
                    slot = _heads.Count;
                    _heads.Add("");
                }
                var up = PumpAsync(client.GetStream(), server.GetStream(), () => ref _cutUpAfter, cut, slot);
                var down = PumpAsync(server.GetStream(), client.GetStream(), () => ref _cutDownAfter, cut, -1);
                await Task.WhenAny(up, down);
                await cut.CancelAsync();
                await Task.WhenAll(up, down);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                // The relay ends with either side.
            }
            // Closing without lingering: the peer sees the connection drop (a reset if bytes are unread).
            client.Client.LingerState = new LingerOption(true, 0);
        }
    }

    private delegate ref long Threshold();

    private async Task PumpAsync(NetworkStream from, NetworkStream to, Threshold threshold, CancellationTokenSource cut, int headSlot)
    {
        byte[] buffer = new byte[16 * 1024];
        long carried = 0;
        var head = new StringBuilder();
        try
        {
            while (true)
            {
                int read = await from.ReadAsync(buffer, cut.Token);
                if (read == 0) return;
                if (headSlot >= 0 && head.Length < 2048)
                {
                    head.Append(Encoding.ASCII.GetString(buffer, 0, Math.Min(read, 2048 - head.Length)));
                    lock (_lock) _heads[headSlot] = head.ToString();
                }
                long limit = Volatile.Read(ref threshold());
                if (limit >= 0 && carried + read >= limit && Interlocked.CompareExchange(ref threshold(), -1, limit) == limit)
                {
                    // Forward up to the limit, then drop the connection both ways.
                    int part = (int)Math.Max(0, limit - carried);
                    if (part > 0) await to.WriteAsync(buffer.AsMemory(0, part), cut.Token);
                    Interlocked.Increment(ref _cuts);
                    await cut.CancelAsync();
                    return;
                }
                await to.WriteAsync(buffer.AsMemory(0, read), cut.Token);
                carried += read;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
