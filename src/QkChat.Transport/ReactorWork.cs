namespace QkChat.Transport;

internal enum WorkKind : byte
{
    Open,
    ReceiveReady,
    SendCompleted,
    Send,
    Close,
    Resume,
    Callback,
    Tick,
    Invoke,
    Stop,
}

/// <summary>One unit of work for a reactor. A struct, so posting it allocates nothing.</summary>
internal readonly record struct ReactorWork(
    WorkKind Kind, Connection? Connection = null, OutboundFrame? Frame = null,
    Action<Connection, object?>? Callback = null, object? State = null, CloseReason Reason = default, bool Droppable = false);
