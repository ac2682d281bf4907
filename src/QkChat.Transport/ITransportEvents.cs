using System.Net;

namespace QkChat.Transport;

/// <summary>What the engine tells its host (logging and metrics live above the transport, which stays a leaf).</summary>
public interface ITransportEvents
{
    void Listening(EndPoint endPoint, bool tls);

    void Rejected(IPAddress remote, RejectReason reason);

    /// <summary>A handler or engine bug caught on a reactor; the connection involved (if any) was closed.</summary>
    void Fault(Connection? connection, Exception exception);

    void AcceptFailed(Exception exception);

    void TlsHandshakeFailed(IPAddress remote, string reason);
}

public enum RejectReason
{
    MaxClients,
    MaxClientsPerIp,
    ShuttingDown,
}
