using System.Net;

namespace QkChat.Transport;

/// <summary>
/// The engine's knobs. The defaults written here are the server's defaults too: qkchatd's option registry binds its
/// server.* listener and connection keys to these properties (OptionRegistry in QkChat.Server), and the key's
/// description and risk there are what docs/configuration.md shows. A new transport option is a property here and
/// a bound entry there; the server hands a copy (<see cref="Copy"/>) to the engine.
/// </summary>
public sealed class TransportOptions
{
    public IPAddress Address { get; set; } = IPAddress.Loopback;
    public int Port { get; set; } = 8080;
    public int Backlog { get; set; } = 1024;

    /// <summary>Listen for plain TCP on <see cref="Port"/>; false serves <see cref="Tls"/> only.</summary>
    public bool PlainListener { get; set; } = true;

    /// <summary>Event-loop threads; 0 means one per core.</summary>
    public int Reactors { get; set; }
    public bool PinReactors { get; set; }

    public int MaxClients { get; set; } = 10_000;
    public int MaxClientsPerIp { get; set; } = 1_000;

    /// <summary>IPv6 clients count per this prefix in every per-address limit (<see cref="ClientAddress"/>).</summary>
    public int Ipv6LimitPrefixLength { get; set; } = ClientAddress.DefaultIpv6PrefixLength;

    /// <summary>
    /// Largest message body accepted (server.max_frame_bytes; protocol.md §1's default, which QkChat.Protocol's
    /// <c>Framing.DefaultMaxFrameBytes</c> states for clients). The listener's codec refuses a longer declared length
    /// from the header alone, and a connection's receive buffer never grows past this plus the codec's header.
    /// </summary>
    public int MaxFrameBytes { get; set; } = 65_536;

    /// <summary>
    /// First receive block rented when a connection has data. 4 KiB holds a typical chat frame (a few hundred
    /// bytes) many times over and is the page size, so it is cheap to pool; larger frames grow the block.
    /// </summary>
    public int ReceiveBlockBytes { get; set; } = 4096;

    public int SendQueueLowBytes { get; set; } = 64 * 1024;
    public int SendQueueHighBytes { get; set; } = 256 * 1024;
    public int SendQueueHardCapBytes { get; set; } = 1024 * 1024;
    public TimeSpan SlowConsumerTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After a connection's last frame is flushed the server half-closes and discards what the peer still sends
    /// for at most this long, so the kernel does not answer unread data with a reset that would destroy the frame.
    /// </summary>
    public TimeSpan LingerTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The body of the message sent (best effort, without blocking) to a connection refused for max_clients or per-IP
    /// limits; the plain listener frames it with its codec. Empty: refused connections are just closed.
    /// </summary>
    public ReadOnlyMemory<byte> BusyBody { get; set; }

    /// <summary>TLS listener; null for plain TCP only.</summary>
    public TlsListenerOptions? Tls { get; set; }

    public int EffectiveReactors => Reactors > 0 ? Reactors : Environment.ProcessorCount;

    /// <summary>A shallow copy: the engine's own object, which a reload then changes without touching the source.</summary>
    public TransportOptions Copy() => (TransportOptions)MemberwiseClone();
}

public sealed class TlsListenerOptions
{
    public int Port { get; set; } = 8443;
    public string CertificatePemFile { get; set; } = "";
    public string KeyPemFile { get; set; } = "";
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TlsListenerOptions Copy() => (TlsListenerOptions)MemberwiseClone();
}
