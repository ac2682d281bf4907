namespace QkChat.Core.Dispatch;

/// <summary>Why the dispatcher closed a connection on its own (<see cref="Dispatcher.ClosedForCause"/>).</summary>
public enum ForcedClose : byte
{
    /// <summary>What the client sent: an empty or oversize frame, malformed frames in a row.</summary>
    Abuse,

    /// <summary>The client did not read its pushes: the send queue passed its cap or a send stalled.</summary>
    SlowConsumer,
}
