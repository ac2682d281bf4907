using System.Net;
using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;
using QkChat.Server.Configuration;
using QkChat.Transport;

namespace QkChat.Server.Hosting;

/// <summary>Composes the transport engine and the dispatcher from the configuration; owns their lifetime.</summary>
public sealed class ChatServer : IAsyncDisposable
{
    private readonly TransportEngine _engine;
    private readonly Dispatcher _dispatcher;
    private readonly ServerOptions _options;

    public ChatServer(ServerOptions options, ILoggerFactory loggers)
    {
        _options = options;
        var chat = new ChatOptions
        {
            MaxFrameBytes = options.MaxFrameBytes,
            LoginTimeout = TimeSpan.FromSeconds(options.LoginTimeoutSeconds),
            IdleTimeout = TimeSpan.FromSeconds(options.IdleTimeoutSeconds),
            RequestsPerSecond = options.RequestsPerSecond,
            RequestBurst = options.RequestBurst,
        };
        Router = new ActionRouter();
        _dispatcher = new Dispatcher(chat, Router, loggers.CreateLogger("Dispatch"));
        _engine = new TransportEngine(TransportOptionsFrom(options), _dispatcher, new TransportEventLog(loggers.CreateLogger("Transport")));
    }

    public ActionRouter Router { get; }

    public TransportEngine Engine => _engine;

    public void Start() => _engine.Start();

    public Task StopAsync(TimeSpan deadline) => _engine.StopAsync(_dispatcher.CreateShutdownPush(), deadline);

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    public static TransportOptions TransportOptionsFrom(ServerOptions o) => new()
    {
        Address = IPAddress.Parse(o.Host),
        Port = o.Port,
        Backlog = o.Backlog,
        Reactors = o.Reactors,
        PinReactors = o.PinReactors,
        MaxClients = o.MaxClients,
        MaxClientsPerIp = o.MaxClientsPerIp,
        MaxReceiveBufferBytes = o.MaxFrameBytes + QkChat.Protocol.Framing.HeaderSize,
        SendQueueLowBytes = o.SendQueueLowBytes,
        SendQueueHighBytes = o.SendQueueHighBytes,
        SendQueueHardCapBytes = o.SendQueueHardCapBytes,
        SlowConsumerTimeout = TimeSpan.FromSeconds(o.SlowConsumerTimeoutSeconds),
        BusyFrame = Dispatcher.CreateBusyFrame(),
        Tls = o.TlsEnabled
            ? new TlsListenerOptions
            {
                Port = o.TlsPort,
                CertificatePemFile = o.TlsCertFile,
                KeyPemFile = o.TlsKeyFile,
                HandshakeTimeout = TimeSpan.FromSeconds(o.TlsHandshakeTimeoutSeconds),
            }
            : null,
    };
}
