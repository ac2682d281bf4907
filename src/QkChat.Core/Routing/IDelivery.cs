using QkChat.Core.Dispatch;
using QkChat.Transport;

namespace QkChat.Core.Routing;

/// <summary>
/// The one way Core features reach users' devices (architecture.md §6, "delivery port"): deliver a frame to a
/// user's devices or to a set of users, kick a device, ask who is online. <see cref="LocalDelivery"/> serves the
/// devices of this node; an implementation for several nodes (later) adds the devices elsewhere.
/// </summary>
/// <remarks>
/// Delivery is fire-and-forget: a call queues the frame and returns at once with the number of devices it
/// addressed, never waiting for a send. Over a remote hop the frame arrives later and may be lost with that node;
/// nothing acknowledged depends on it (a message stays `sent` until its receiver acks, and reaches the device in
/// the offline batch at its next login). <see cref="ToUsers"/> takes the whole set at once so that an
/// implementation can group it by node. Every delivery takes over the caller's reference to the frame (one
/// serialization, one reference per device, released when nobody gets it). Callable from any thread. A device is
/// known by its <see cref="Session"/> (Core's own identity of a device's connection), never by the transport's
/// connection: a device on another node is reached by (user, client id) through the same calls.
/// </remarks>
public interface IDelivery
{
    /// <summary>
    /// Queues <paramref name="frame"/> to every device of <paramref name="userId"/> except the device
    /// <paramref name="except"/> (the sender's own). <paramref name="droppable"/>: a push the send queue may drop
    /// under pressure (presence). <paramref name="messageId"/> (a `message` push; 0 otherwise): a device with a
    /// <see cref="Session.MessageFilter"/> (draining its offline queue) gets it only if the filter admits it, so not
    /// also inside a batch. Returns the devices addressed (0: offline).
    /// </summary>
    int ToUser(uint userId, OutboundFrame frame, Session? except = null, bool droppable = false, long messageId = 0);

    /// <summary>
    /// Queues one frame, serialized once, to every device of each of <paramref name="userIds"/> except the device
    /// <paramref name="except"/> (a group sender's own); returns the devices addressed.
    /// </summary>
    int ToUsers(ReadOnlySpan<uint> userIds, OutboundFrame frame, bool droppable = false, Session? except = null);

    /// <summary>
    /// <see cref="ToUsers"/> for a push of a group's timeline (<paramref name="at"/>: the entry's seq, or the entry a
    /// recall follows): several nodes push each group's entries to a device in seq order whichever node wrote them
    /// (<see cref="GroupPushOrder"/>, docs/cluster.md "Group order"); every qkchatd composes that port, one node too.
    /// This default (LocalDelivery alone, in-process tests) pushes at once, as ToUsers.
    /// </summary>
    int ToGroup(GroupSeq at, ReadOnlySpan<uint> userIds, OutboundFrame frame, Session? except = null) => ToUsers(userIds, frame, false, except);

    /// <summary>
    /// Entry <paramref name="at"/> was stored and its sender answered, but it has no push (its members could not be read):
    /// where a later entry's push makes the group's order fill the gap from MariaDB (<see cref="GroupPushOrder.Unpushed"/>),
    /// the fill must skip <paramref name="sender"/>, the sending device. This default (LocalDelivery alone) fills
    /// nothing: members sync the gap.
    /// </summary>
    void GroupUnpushed(GroupSeq at, Session sender)
    {
    }

    /// <summary>
    /// Queues <paramref name="frame"/> to this one device, the one that asked (the offline batch of the device that
    /// logged in). On the device's reactor it is queued at once, in order with what that step sends.
    /// </summary>
    void ToDevice(Session device, OutboundFrame frame);

    /// <summary>
    /// Before a login answers (off the reactor): makes the deployment know that <paramref name="device"/> will hold
    /// (<paramref name="userId"/>, <paramref name="clientId"/>), so that a send after the answer, on any node, reaches it,
    /// and a session of the device on another node is kicked (docs/cluster.md, "Staleness"). Never throws; completes
    /// when done or given up (Redis away: the login goes on, and <see cref="Attach"/> registers it later). One node:
    /// nothing to do.
    /// </summary>
    Task ClaimAsync(Session device, uint userId, string clientId, string? label) => Task.CompletedTask;

    /// <summary>
    /// Registers <paramref name="device"/> (signed in: its UserId and ClientId are set) as that user's device. A
    /// session that held the device before is kicked (`same_device`) and returned, for the audit row.
    /// </summary>
    Session? Attach(Session device);

    /// <summary>Forgets the device unless another session has taken it over meanwhile.</summary>
    void Detach(Session device);

    /// <summary>Sends `kicked` with <paramref name="reason"/> to the device's connection and closes it; false if it has none.</summary>
    bool Kick(uint userId, string clientId, string reason);

    /// <summary>Whether any device of the user is connected to this node (synchronous, no Redis: for this node's own
    /// bookkeeping; what a client is shown over all nodes comes from <see cref="DevicesEverywhereAsync"/> and the
    /// presence view).</summary>
    bool IsOnline(uint userId);

    /// <summary>Whether this device of the user is connected to this node.</summary>
    bool IsOnline(uint userId, string clientId);

    /// <summary>The user's devices connected to this node (client ids), a snapshot.</summary>
    IReadOnlyList<string> DevicesOf(uint userId);

    /// <summary>
    /// The user's connected devices on every live node (several nodes: this node's and the device registry's, read now;
    /// one node: <see cref="DevicesOf"/>). Awaited off the reactor; Redis down: this node's devices.
    /// </summary>
    Task<IReadOnlyList<string>> DevicesEverywhereAsync(uint userId);
}
