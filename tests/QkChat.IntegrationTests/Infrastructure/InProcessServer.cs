using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Transport;

namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>
/// The real transport engine and dispatcher on a loopback port chosen by the OS, without MariaDB or Redis: for the
/// transport's own tests, with limits and timeouts small enough to hit quickly. Test-only actions can be added.
/// </summary>
internal sealed class InProcessServer : IAsyncDisposable, ITransportEvents
{
    private InProcessServer(TransportOptions transport, ChatOptions chat, Action<ActionRouter, Dispatcher>? routes)
    {
        Router = new ActionRouter();
        Dispatcher = new Dispatcher(chat, Router, NullLogger.Instance);
        routes?.Invoke(Router, Dispatcher);
        transport.Port = 0;
        transport.BusyBody = Frames.BusyBody();
        Engine = new TransportEngine(transport, Dispatcher, this);
        Engine.Start();
    }

    public TransportEngine Engine { get; }
    public Dispatcher Dispatcher { get; }
    public ActionRouter Router { get; }
    public int Port => Engine.LocalEndPoint!.Port;
    public ConcurrentQueue<Exception> Faults { get; } = new();
    public ConcurrentQueue<RejectReason> Rejections { get; } = new();

    public static InProcessServer Start(Action<TransportOptions>? transport = null, Action<ChatOptions>? chat = null,
        Action<ActionRouter, Dispatcher>? routes = null)
    {
        var t = new TransportOptions { Address = IPAddress.Loopback, Reactors = 2 };
        var c = new ChatOptions { RequestsPerSecond = 100_000, RequestBurst = 100_000 };
        transport?.Invoke(t);
        chat?.Invoke(c);
        return new InProcessServer(t, c, routes);
    }

    public Task<RawClient> ConnectAsync(IPAddress? local = null) => RawClient.ConnectAsync(Port, local);

    public long ClosedFor(CloseReason reason) => Engine.Reactors.Sum(r => Volatile.Read(ref r.Stats.ClosedByReason[(int)reason]));

    /// <summary>Waits until the engine's own bookkeeping reaches <paramref name="condition"/>.</summary>
    public async Task EventuallyAsync(Func<bool> condition, string what, int timeoutMs = 10_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline) throw new TimeoutException("not reached: " + what);
            await Task.Delay(10);
        }
    }

    public void Listening(EndPoint endPoint, bool tls) { }
    public void Rejected(IPAddress remote, RejectReason reason) => Rejections.Enqueue(reason);
    public void Fault(Connection? connection, Exception exception) => Faults.Enqueue(exception);
    public void AcceptFailed(Exception exception) => Faults.Enqueue(exception);
    public void TlsHandshakeFailed(IPAddress remote, string reason) { }

    public async ValueTask DisposeAsync()
    {
        await Engine.StopAsync(null, TimeSpan.FromSeconds(2));
        Xunit.Assert.Empty(Faults);
    }
}
