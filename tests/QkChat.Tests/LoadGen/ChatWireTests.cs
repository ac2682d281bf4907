using System.Buffers;
using System.Text;
using System.Text.Json;
using QkChat.LoadGen.Scenarios;
using QkChat.Protocol;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>
/// The chat scenario's frames as bytes (ChatWire): what it writes is the protocol's request, what it reads matches what
/// the server writes, and its per-message work (a send frame, the `sent` answer, the `message` push, its share of an
/// ack frame and answer) allocates nothing: the load generator's cost per message (issue 22 point 5).
/// </summary>
[Collection(MeasuredAlone.Name)]
public sealed class ChatWireTests
{
    private const long Run = 1_764_000_000_123;
    private const long SentMicros = 1_764_000_012_345_678;

    private static readonly byte[] SentAnswer = Encoding.UTF8.GetBytes(
        """{"action":"send_message","request_id":"s42","success":true,"code":"OK","message":"sent","data":{"message_id":9007199254740000,"timestamp":1764000012345,"status":"sent"}}""");

    private static readonly byte[] AckAnswer = Encoding.UTF8.GetBytes(
        """{"action":"message_ack","request_id":"a7","success":true,"code":"OK","message":"acknowledged"}""");

    private static byte[] MessagePush(string content) => Encoding.UTF8.GetBytes(
        $$$"""{"action":"message","push":true,"data":{"message_id":77,"sender_id":123456789,"receiver_id":987654321,"content":"{{{content}}}","type":"text","timestamp":1764000012345,"status":"sent","recalled":false}}""");

    [Fact]
    public void A_send_frame_is_the_protocols_send_message_with_the_content_and_a_fresh_client_msg_id()
    {
        (byte[] frame, int length) = ChatWire.SendMessage(42, 123_456_789, Run, SentMicros, 100);
        try
        {
            Assert.Equal(FrameStatus.Complete, Framing.TryDecode(frame.AsSpan(0, length), Framing.DefaultMaxFrameBytes, out int bodyLength));
            using JsonDocument body = JsonDocument.Parse(frame.AsMemory(Framing.HeaderSize, bodyLength));
            JsonElement r = body.RootElement;
            Assert.Equal("send_message", r.GetProperty("action").GetString());
            Assert.Equal("s42", r.GetProperty("request_id").GetString());
            Assert.Equal(123_456_789u, r.GetProperty("receiver_id").GetUInt32());
            Assert.Equal("text", r.GetProperty("type").GetString());
            Assert.Equal($"{Run}-42", r.GetProperty("client_msg_id").GetString());
            string content = r.GetProperty("content").GetString()!;
            Assert.Equal(ChatContent.Build(Run, SentMicros, 100), content);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    [Fact]
    public void An_ack_frame_lists_the_ids()
    {
        (byte[] frame, int length) = ChatWire.MessageAck(7, [5, 6, 9_007_199_254_740_000]);
        try
        {
            using JsonDocument body = JsonDocument.Parse(frame.AsMemory(Framing.HeaderSize, length - Framing.HeaderSize));
            Assert.Equal("message_ack", body.RootElement.GetProperty("action").GetString());
            Assert.Equal("a7", body.RootElement.GetProperty("request_id").GetString());
            Assert.Equal([5L, 6L, 9_007_199_254_740_000L],
                body.RootElement.GetProperty("message_ids").EnumerateArray().Select(e => e.GetInt64()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    [Fact]
    public void Answers_and_pushes_are_read_for_the_fields_the_scenario_uses()
    {
        Assert.True(ChatWire.TryRead(SentAnswer, out ChatFrame sent));
        Assert.Equal((ChatWire.SendPrefix, 42L, true, 9_007_199_254_740_000L, false), (sent.RequestPrefix, sent.RequestSeq, sent.Success, sent.MessageId, sent.Push));
        Assert.Same(ErrorCodes.Ok, sent.Code);

        Assert.True(ChatWire.TryRead(AckAnswer, out ChatFrame ack));
        Assert.Equal((ChatWire.AckPrefix, 7L, true), (ack.RequestPrefix, ack.RequestSeq, ack.Success));

        Assert.True(ChatWire.TryRead(MessagePush(ChatContent.Build(Run, SentMicros, 100)), out ChatFrame push));
        Assert.Equal((true, ChatAction.Message, 77L, 123_456_789L, true, Run, SentMicros),
            (push.Push, push.Action, push.MessageId, push.SenderId, push.OurContent, push.RunId, push.SentUnixMicros));
        Assert.Equal(0, push.RequestPrefix);

        Assert.True(ChatWire.TryRead(MessagePush("hello from a person"), out ChatFrame other));
        Assert.Equal((true, false), (other.HasContent, other.OurContent));

        Assert.True(ChatWire.TryRead("""{"action":"message_status","push":true,"data":{"message_id":77,"peer_id":1,"status":"delivered"}}"""u8, out ChatFrame status));
        Assert.Equal((ChatAction.MessageStatus, true), (status.Action, status.Delivered));

        Assert.True(ChatWire.TryRead("""{"action":"send_message","request_id":"s3","success":false,"code":"SERVER_BUSY","message":"busy","data":{"retry_after_ms":150}}"""u8, out ChatFrame busy));
        Assert.Equal((false, 150), (busy.Success, busy.RetryAfterMs));
        Assert.Same(ErrorCodes.ServerBusy, busy.Code);

        // ChatClient's own requests (digit ids) are not the scenario's: the raw handler leaves them to the client.
        Assert.True(ChatWire.TryRead("""{"action":"login","request_id":"12","success":true,"code":"OK","message":"ok","data":{"user_id":5}}"""u8, out ChatFrame login));
        Assert.Equal(0, login.RequestPrefix);
        Assert.True(ChatWire.TryRead("""{"action":"x","request_id":"s1x"}"""u8, out ChatFrame odd));
        Assert.Equal(0, odd.RequestPrefix);

        Assert.False(ChatWire.TryRead("[1,2]"u8, out _));
        Assert.False(ChatWire.TryRead("""{"action":"mess"""u8, out _));
    }

    [Fact]
    public void A_messages_frames_built_and_read_allocate_zero_bytes()
    {
        byte[] push = MessagePush(ChatContent.Build(Run, SentMicros, 100));
        long[] ids = [77];
        long checksum = 0;

        void OneMessage()
        {
            (byte[] frame, _) = ChatWire.SendMessage(42, 123_456_789, Run, SentMicros, 100);
            ArrayPool<byte>.Shared.Return(frame);
            ChatWire.TryRead(SentAnswer, out ChatFrame sent);
            ChatWire.TryRead(push, out ChatFrame pushed);
            (byte[] ackFrame, _) = ChatWire.MessageAck(7, ids);
            ArrayPool<byte>.Shared.Return(ackFrame);
            ChatWire.TryRead(AckAnswer, out ChatFrame acked);
            checksum += sent.MessageId + pushed.SentUnixMicros + acked.RequestSeq;
        }

        for (int i = 0; i < 1000; i++) OneMessage();   // tiered JIT, the thread's cached writer, the pool's buckets
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++) OneMessage();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.NotEqual(0, checksum);
    }
}
