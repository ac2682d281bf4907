using QkChat.Core.Dispatch;

namespace QkChat.Core.Messaging;

/// <summary>
/// Messaging's own state of one device, in the device's session slot (<see cref="SessionSlot{T}"/>), made at its
/// first send or login: the send chain and the offline drain. Touched on the device's reactor, except
/// <see cref="Cursor"/> (see there). While the device drains it is also the session's message filter.
/// </summary>
internal sealed class DeviceMessaging : IMessageFilter
{
    /// <summary>The last send of this device that waits for a lookup off the reactor: later sends queue behind it.</summary>
    public Task? SendChain;

    /// <summary>
    /// While the device drains its offline queue: the ids it got, live or in an offline batch, so a message racing the
    /// login is not delivered twice. Null once the drain is over.
    /// </summary>
    public HashSet<long>? OfflineSeen;

    /// <summary>The drain's last batch went out: the next ack of this device ends the tracking.</summary>
    public bool OfflineFinalSent;

    /// <summary>
    /// Where the drain goes on while more offline messages wait: set on the reactor before a batch goes out, taken
    /// (Interlocked.Exchange) by the device's ack of it, from the ack writer's thread. The next batch goes out when the
    /// device acks, so the queue drains at the client's pace and never floods its send queue.
    /// </summary>
    public OfflineCursor? Cursor;

    /// <summary>The session's filter for live `message` pushes while draining: each id once, batch or live.</summary>
    public bool Admit(long messageId) => OfflineSeen is not { } seen || seen.Add(messageId);

    /// <summary>On the reactor, at login: start tracking what reaches the device, and filter live pushes through it.</summary>
    public void BeginDrain(Session session)
    {
        OfflineSeen = [];
        OfflineFinalSent = false;
        session.MessageFilter = this;
    }

    /// <summary>On the reactor: live pushes are all there is from now on.</summary>
    public void EndDrain(Session session)
    {
        OfflineSeen = null;
        session.MessageFilter = null;
    }
}

/// <summary>
/// The offline drain's position: the last id read, the queue's end as it was at login (this node's watermark then), and
/// the tick (Environment.TickCount64) after which the drain no longer waits for other nodes' batches in flight below it.
/// </summary>
internal sealed record OfflineCursor(long After, long Target, long GiveUpAt);
