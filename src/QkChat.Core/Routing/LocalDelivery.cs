using QkChat.Core.Dispatch;
using QkChat.Protocol;
using QkChat.Transport;

namespace QkChat.Core.Routing;

/// <summary>
/// <see cref="IDelivery"/> for the devices of this node, over <see cref="LiveSessions"/>: each frame crosses to its
/// receiver's reactor through the reactor's inbox (<see cref="Connection.PostSend"/>). Allocation-free for a device
/// without a message filter (the heartbeat and message paths stay as they were).
/// </summary>
public sealed class LocalDelivery(LiveSessions live) : IDelivery
{
    public LiveSessions Live { get; } = live;

    public int ToUser(uint userId, OutboundFrame frame, Session? except = null, bool droppable = false, long messageId = 0)
    {
        int sent = 0;
        var skip = except?.Connection;
        foreach (var connection in Live.ConnectionsOf(userId))
        {
            if (connection == skip) continue;
            if (messageId != 0 && connection.State is Session { MessageFilter: not null }) PostFiltered(connection, frame.AddReference(), messageId);
            else connection.PostSend(frame.AddReference(), droppable);
            sent++;
        }
        frame.Release();
        return sent;
    }

    public int ToUsers(ReadOnlySpan<uint> userIds, OutboundFrame frame, bool droppable = false, Session? except = null)
    {
        int sent = 0;
        foreach (uint userId in userIds) sent += ToUser(userId, frame.AddReference(), except, droppable);
        frame.Release();
        return sent;
    }

    public void ToDevice(Session device, OutboundFrame frame) => device.Connection.PostSend(frame);

    /// <summary>
    /// A device with a message filter (draining its offline queue) gets a `message` push through its reactor, where the
    /// filter drops a message it already has (docs/messaging.md). Boxes its state: this happens only while a device drains.
    /// </summary>
    private static void PostFiltered(Connection connection, OutboundFrame frame, long messageId) =>
        connection.Post(static (c, state) =>
        {
            var (frame, id) = ((OutboundFrame, long))state!;
            if (((Session)c.State!).MessageFilter is { } filter && !filter.Admit(id)) frame.Release();
            else c.Send(frame);
        }, (frame, messageId));

    public Session? Attach(Session device)
    {
        var previous = Live.Register(device.UserId, device.ClientId!, device.Connection);
        if (previous is null) return null;
        KickConnection(previous, "same_device");
        return (Session)previous.State!;
    }

    public void Detach(Session device)
    {
        if (device.ClientId is { } clientId) Live.Unregister(device.UserId, clientId, device.Connection);
    }

    public bool Kick(uint userId, string clientId, string reason)
    {
        if (Live.Find(userId, clientId) is not { } connection) return false;
        Live.Unregister(userId, clientId, connection);
        KickConnection(connection, reason);
        return true;
    }

    /// <summary>Kicks this one connection of the device (not a newer one that took the device over); false if it no
    /// longer holds the device here.</summary>
    public bool Kick(uint userId, string clientId, Connection connection, string reason)
    {
        if (Live.Find(userId, clientId) != connection) return false;
        Live.Unregister(userId, clientId, connection);
        KickConnection(connection, reason);
        return true;
    }

    /// <summary>Sends `kicked` and closes the connection, on its reactor. Its close later unregisters nothing it no
    /// longer owns: LiveSessions.Unregister removes only its own entry.</summary>
    private static void KickConnection(Connection connection, string reason) =>
        connection.Post(static (c, reason) =>
        {
            c.Send(Frames.CreatePush(PushNames.Kicked, (string)reason!, static (w, r) => w.WriteString("reason"u8, r)));
            c.CloseAfterFlush(CloseReason.Requested);
        }, reason);

    public bool IsOnline(uint userId) => Live.IsOnline(userId);

    public bool IsOnline(uint userId, string clientId) => Live.Find(userId, clientId) is not null;

    public IReadOnlyList<string> DevicesOf(uint userId) => Live.ClientIdsOf(userId);

    public Task<IReadOnlyList<string>> DevicesEverywhereAsync(uint userId) => Task.FromResult(DevicesOf(userId));
}
