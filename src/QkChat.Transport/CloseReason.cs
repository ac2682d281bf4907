namespace QkChat.Transport;

/// <summary>Why a connection ended; counted per reason and handed to the handler.</summary>
public enum CloseReason
{
    PeerClosed,
    Reset,
    ProtocolError,
    SlowConsumer,
    Timeout,
    ServerBusy,
    Shutdown,
    Requested,
    TlsHandshakeFailed,
}
