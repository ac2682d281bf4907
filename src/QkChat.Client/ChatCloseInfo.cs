namespace QkChat.Client;

/// <summary>Why a <see cref="ChatClient"/> connection ended.</summary>
public enum ChatCloseReason
{
    /// <summary>The server closed the connection cleanly (end of stream).</summary>
    ServerClosed,

    /// <summary>The connection was reset or aborted (RST, broken pipe, TLS failure after connect).</summary>
    Reset,

    /// <summary>The server broke protocol.md §1-2: a zero or oversize frame length, or a body that is not an envelope.</summary>
    ProtocolError,

    /// <summary>This side closed it (DisposeAsync).</summary>
    LocalClose,
}

/// <summary>How and why the connection ended; <see cref="ChatClient.Closed"/> completes with it and never faults.</summary>
public sealed record ChatCloseInfo(ChatCloseReason Reason, string Detail, Exception? Error = null)
{
    public override string ToString() => Error is null ? $"{Reason}: {Detail}" : $"{Reason}: {Detail} ({Error.Message})";
}

/// <summary>Thrown by pending and later operations once the connection has ended.</summary>
public sealed class ChatConnectionClosedException : IOException
{
    public ChatConnectionClosedException(ChatCloseInfo info)
        : base("connection closed: " + info, info.Error) => Info = info;

    public ChatCloseInfo Info { get; }
}
