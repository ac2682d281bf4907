using QkChat.Core.Dispatch;
using QkChat.Protocol;
using QkChat.Transport;

namespace QkChat.Core.Routing;

/// <summary>
/// <see cref="IDelivery"/> for the devices of this node, over <see cref="LiveSessions"/>: each frame crosses to its
/// receiver's reactor through the reactor's inbox (<see cref="Connection.PostSend"/>). Allocation-free for a device
/// that is not draining its offline queue (the heartbeat and message paths stay as they were).
/// </summary>
public sealed class LocalDelivery(LiveSessions live) : IDelivery
{
    public LiveSessions Live { get; } = live;

    public int ToUser(uint userId, OutboundFrame frame, Connection? except = null, bool droppable = false, long messageId = 0)
    {
        int sent = 0;
        foreach (var connection in Live.ConnectionsOf(userId))
        {
            if (connection == except) continue;
            if (messageId != 0 && connection.State is Session { OfflineSeen: not null }) PostOnce(connection, frame.AddReference(), messageId);
            else connection.PostSend(frame.AddReference(), droppable);
            sent++;
        }
        frame.Release();
        return sent;
    }

    public int ToUsers(ReadOnlySpan<uint> userIds, OutboundFrame frame, bool droppable = false)
    {
        int sent = 0;
        foreach (uint userId in userIds) sent += ToUser(userId, frame.AddReference(), droppable: droppable);
        frame.Release();
        return sent;
    }

    /// <summary>
    /// A device draining its offline queue gets a `message` push through its reactor, where Session.OfflineSeen drops
    /// a message that was already in a batch (docs/messaging.md). Boxes its state: this happens only while a device drains.
    /// </summary>
    private static void PostOnce(Connection connection, OutboundFrame frame, long messageId) =>
        connection.Post(static (c, state) =>
        {
            var (frame, id) = ((OutboundFrame, long))state!;
            if (((Session)c.State!).OfflineSeen is { } seen && !seen.Add(id)) frame.Release();
            else c.Send(frame);
        }, (frame, messageId));

    public Connection? Attach(uint userId, string clientId, Connection connection)
    {
        var previous = Live.Register(userId, clientId, connection);
        if (previous is not null) KickConnection(previous, "same_device");
        return previous;
    }

    public void Detach(uint userId, string clientId, Connection connection) => Live.Unregister(userId, clientId, connection);

    public bool Kick(uint userId, string clientId, string reason)
    {
        if (Live.Find(userId, clientId) is not { } connection) return false;
        Live.Unregister(userId, clientId, connection);
        KickConnection(connection, reason);
        return true;
    }

    /// <summary>Sends `kicked` and closes the connection, on its reactor. Its close later unregisters nothing it no
    /// longer owns: LiveSessions.Unregister removes only its own entry.</summary>
    private static void KickConnection(Connection connection, string reason) =>
        connection.Post(static (c, reason) =>
        {
            c.Send(Dispatcher.CreatePush(Actions.Kicked, (string)reason!, static (w, r) => w.WriteString("reason"u8, r)));
            c.CloseAfterFlush(CloseReason.Requested);
        }, reason);

    public bool IsOnline(uint userId) => Live.IsOnline(userId);

    public bool IsOnline(uint userId, string clientId) => Live.Find(userId, clientId) is not null;

    public IReadOnlyList<string> DevicesOf(uint userId) => Live.ClientIdsOf(userId);
}
