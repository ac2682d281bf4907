using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace QkChat.Server.Cluster;

/// <summary>
/// What one node publishes to another on its channel (docs/cluster.md, "Routing"): a batch of records behind a
/// two-byte header (format version, sending node). A deliver record carries the frame body once and the users of
/// the receiving node it goes to; a kick record names one device. Little-endian, lengths before contents; nodes of
/// one deployment run one build, and a batch of another version is dropped and counted.
/// </summary>
public static class RouteWire
{
    // 2: the take-over record (an exact same_device kick with the new login's device label). 3: the group record (a
    // push of a group's timeline with its group and seq, for the receiving node's order).
    public const byte Version = 3;
    public const byte DeliverRecord = 1;
    public const byte KickRecord = 2;
    public const byte TakeOverRecord = 3;
    public const byte GroupRecord = 4;

    /// <summary>Above this many bytes a node's batch is published and a new one started: 256 KB keeps one publish
    /// well under Redis's 512 MB bulk limit and its client output buffer limits for pub/sub (32 MB hard by default),
    /// while a batch of small pushes still carries hundreds of them.</summary>
    public const int MaxBatchBytes = 256 * 1024;

    public static void WriteHeader(ArrayBufferWriter<byte> to, int senderNode)
    {
        var span = to.GetSpan(2);
        span[0] = Version;
        span[1] = (byte)senderNode;
        to.Advance(2);
    }

    public static void WriteDeliver(ArrayBufferWriter<byte> to, ReadOnlySpan<uint> users, ReadOnlySpan<byte> body, bool droppable, long messageId)
    {
        int size = 1 + 1 + 8 + 2 + users.Length * 4 + 4 + body.Length;
        var span = to.GetSpan(size);
        span[0] = DeliverRecord;
        span[1] = droppable ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(span[2..], messageId);
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], (ushort)users.Length);
        int at = 12 + WriteUsers(span[12..], users);
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], body.Length);
        body.CopyTo(span[(at + 4)..]);
        to.Advance(size);
    }

    /// <summary>
    /// A push of a group's timeline: the deliver record's users and body (never droppable, no message filter) behind the
    /// group, the seq and whether it follows that seq's entry (a recall). All of the node's users in one record (a 4-byte
    /// count): the receiving node orders by seq, so one seq must not come in parts.
    /// </summary>
    public static void WriteGroup(ArrayBufferWriter<byte> to, ReadOnlySpan<uint> users, ReadOnlySpan<byte> body, long groupId, long seq, bool follows)
    {
        int size = 1 + 1 + 8 + 8 + 4 + users.Length * 4 + 4 + body.Length;
        var span = to.GetSpan(size);
        span[0] = GroupRecord;
        span[1] = follows ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(span[2..], groupId);
        BinaryPrimitives.WriteInt64LittleEndian(span[10..], seq);
        BinaryPrimitives.WriteInt32LittleEndian(span[18..], users.Length);
        int at = 22 + WriteUsers(span[22..], users);
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], body.Length);
        body.CopyTo(span[(at + 4)..]);
        to.Advance(size);
    }

    /// <summary>The ids, little-endian: one block copy on a little-endian machine.</summary>
    private static int WriteUsers(Span<byte> to, ReadOnlySpan<uint> users)
    {
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(users).CopyTo(to);
        else
            for (int i = 0; i < users.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(to[(i * 4)..], users[i]);
        return users.Length * 4;
    }

    public static void WriteKick(ArrayBufferWriter<byte> to, uint user, string clientId, string reason)
    {
        int idBytes = Encoding.UTF8.GetByteCount(clientId), reasonBytes = Encoding.UTF8.GetByteCount(reason);
        int size = 1 + 4 + 2 + idBytes + 2 + reasonBytes;
        var span = to.GetSpan(size);
        span[0] = KickRecord;
        BinaryPrimitives.WriteUInt32LittleEndian(span[1..], user);
        BinaryPrimitives.WriteUInt16LittleEndian(span[5..], (ushort)idBytes);
        Encoding.UTF8.GetBytes(clientId, span[7..]);
        BinaryPrimitives.WriteUInt16LittleEndian(span[(7 + idBytes)..], (ushort)reasonBytes);
        Encoding.UTF8.GetBytes(reason, span[(9 + idBytes)..]);
        to.Advance(size);
    }

    /// <summary>A login on the sending node replaced <paramref name="session"/> of the device; <paramref name="device"/> is
    /// the new login's device label (null: none), for the audit row.</summary>
    public static void WriteTakeOver(ArrayBufferWriter<byte> to, uint user, string clientId, string session, string? device)
    {
        int idBytes = Encoding.UTF8.GetByteCount(clientId), sessionBytes = Encoding.UTF8.GetByteCount(session);
        int deviceBytes = device is null ? 0 : Encoding.UTF8.GetByteCount(device);
        int size = 1 + 4 + 2 + idBytes + 2 + sessionBytes + 1 + 2 + deviceBytes;
        var span = to.GetSpan(size);
        span[0] = TakeOverRecord;
        BinaryPrimitives.WriteUInt32LittleEndian(span[1..], user);
        int at = 5;
        at += WriteString(span[at..], clientId, idBytes);
        at += WriteString(span[at..], session, sessionBytes);
        span[at++] = device is null ? (byte)0 : (byte)1;
        WriteString(span[at..], device ?? "", deviceBytes);
        to.Advance(size);
    }

    private static int WriteString(Span<byte> to, string value, int bytes)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(to, (ushort)bytes);
        Encoding.UTF8.GetBytes(value, to[2..]);
        return 2 + bytes;
    }

    private static bool TryReadString(ref ReadOnlySpan<byte> rest, out string value)
    {
        value = "";
        if (rest.Length < 2) return false;
        int bytes = BinaryPrimitives.ReadUInt16LittleEndian(rest);
        if (rest.Length < 2 + bytes) return false;
        value = Encoding.UTF8.GetString(rest.Slice(2, bytes));
        rest = rest[(2 + bytes)..];
        return true;
    }

    /// <summary>What a receiving node does with each record of a batch.</summary>
    public interface IHandler
    {
        void Deliver(ReadOnlySpan<uint> users, ReadOnlySpan<byte> body, bool droppable, long messageId);

        void DeliverGroup(ReadOnlySpan<uint> users, ReadOnlySpan<byte> body, long groupId, long seq, bool follows);

        void Kick(uint user, string clientId, string reason);

        void TakeOver(uint user, string clientId, string session, string? device);
    }

    /// <summary>Hands every record of <paramref name="batch"/> to <paramref name="handler"/>, in order; false if the
    /// batch is of another version or cut short (the records before the damage are handled).</summary>
    public static bool Read(ReadOnlySpan<byte> batch, IHandler handler, out int senderNode)
    {
        senderNode = -1;
        if (batch.Length < 2 || batch[0] != Version) return false;
        senderNode = batch[1];
        var rest = batch[2..];
        Span<uint> copied = stackalloc uint[64];
        while (!rest.IsEmpty)
        {
            switch (rest[0])
            {
                case DeliverRecord when rest.Length >= 12:
                {
                    bool droppable = rest[1] != 0;
                    long messageId = BinaryPrimitives.ReadInt64LittleEndian(rest[2..]);
                    int count = BinaryPrimitives.ReadUInt16LittleEndian(rest[10..]);
                    int at = 12 + count * 4;
                    if (rest.Length < at + 4) return false;
                    var list = Users(rest.Slice(12, count * 4), copied);
                    int bodyLength = BinaryPrimitives.ReadInt32LittleEndian(rest[at..]);
                    if (bodyLength < 0 || rest.Length < at + 4 + bodyLength) return false;
                    handler.Deliver(list, rest.Slice(at + 4, bodyLength), droppable, messageId);
                    rest = rest[(at + 4 + bodyLength)..];
                    break;
                }
                case GroupRecord when rest.Length >= 22:
                {
                    bool follows = rest[1] != 0;
                    long groupId = BinaryPrimitives.ReadInt64LittleEndian(rest[2..]);
                    long seq = BinaryPrimitives.ReadInt64LittleEndian(rest[10..]);
                    int count = BinaryPrimitives.ReadInt32LittleEndian(rest[18..]);
                    if (count < 0 || (rest.Length - 26) / 4 < count) return false;
                    int at = 22 + count * 4;
                    var list = Users(rest.Slice(22, count * 4), copied);
                    int bodyLength = BinaryPrimitives.ReadInt32LittleEndian(rest[at..]);
                    if (bodyLength < 0 || rest.Length - at - 4 < bodyLength) return false;
                    handler.DeliverGroup(list, rest.Slice(at + 4, bodyLength), groupId, seq, follows);
                    rest = rest[(at + 4 + bodyLength)..];
                    break;
                }
                case KickRecord when rest.Length >= 7:
                {
                    uint user = BinaryPrimitives.ReadUInt32LittleEndian(rest[1..]);
                    int idBytes = BinaryPrimitives.ReadUInt16LittleEndian(rest[5..]);
                    if (rest.Length < 9 + idBytes) return false;
                    string clientId = Encoding.UTF8.GetString(rest.Slice(7, idBytes));
                    int reasonBytes = BinaryPrimitives.ReadUInt16LittleEndian(rest[(7 + idBytes)..]);
                    if (rest.Length < 9 + idBytes + reasonBytes) return false;
                    handler.Kick(user, clientId, Encoding.UTF8.GetString(rest.Slice(9 + idBytes, reasonBytes)));
                    rest = rest[(9 + idBytes + reasonBytes)..];
                    break;
                }
                case TakeOverRecord when rest.Length >= 5:
                {
                    uint user = BinaryPrimitives.ReadUInt32LittleEndian(rest[1..]);
                    var fields = rest[5..];
                    if (!TryReadString(ref fields, out string clientId) || !TryReadString(ref fields, out string session) || fields.IsEmpty) return false;
                    bool hasDevice = fields[0] != 0;
                    fields = fields[1..];
                    if (!TryReadString(ref fields, out string device)) return false;
                    handler.TakeOver(user, clientId, session, hasDevice ? device : null);
                    rest = fields;
                    break;
                }
                default:
                    return false;
            }
        }
        return true;
    }

    /// <summary>
    /// A record's user list as read: the batch's own bytes seen as ids on a little-endian machine (every server this
    /// runs on: x64, arm64, both of which read unaligned words), so a record naming 333 users costs no copy and no
    /// allocation (it used to copy them, into a new array past 64: 1.3 KB per record of a 1,000-member group over three
    /// nodes; RouteWireAllocationTests). A big-endian machine copies (into <paramref name="scratch"/> up to its size).
    /// </summary>
    private static ReadOnlySpan<uint> Users(ReadOnlySpan<byte> bytes, Span<uint> scratch)
    {
        if (BitConverter.IsLittleEndian) return MemoryMarshal.Cast<byte, uint>(bytes);
        int count = bytes.Length / 4;
        var list = count <= scratch.Length ? scratch[..count] : new uint[count];
        for (int i = 0; i < count; i++) list[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(i * 4)..]);
        return list;
    }

    /// <summary>The "these users' devices changed" notice (header, then user ids).</summary>
    public static byte[] Changed(int senderNode, IReadOnlyList<uint> users)
    {
        var bytes = new byte[2 + users.Count * 4];
        bytes[0] = Version;
        bytes[1] = (byte)senderNode;
        for (int i = 0; i < users.Count; i++) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(2 + i * 4), users[i]);
        return bytes;
    }

    public static bool ReadChanged(ReadOnlySpan<byte> notice, List<uint> users, out int senderNode)
    {
        senderNode = -1;
        if (notice.Length < 2 || notice[0] != Version || (notice.Length - 2) % 4 != 0) return false;
        senderNode = notice[1];
        for (int at = 2; at < notice.Length; at += 4) users.Add(BinaryPrimitives.ReadUInt32LittleEndian(notice[at..]));
        return true;
    }
}
