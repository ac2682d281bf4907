using System.Text.Json;
using QkChat.Cli;
using QkChat.Protocol;
using Xunit;

namespace QkChat.Tests.Cli;

public sealed class PushFormatterTests
{
    private const long Alice = 100000001, Bob = 200000002;
    private static readonly long Earlier = FixedClock.NowMs - 3_600_000;   // 11:00:00 the same day

    private readonly PushFormatter _format;

    public PushFormatterTests()
    {
        var names = new UserNames();
        names.Remember(Bob, "bob");
        _format = new PushFormatter(names, new FixedClock()) { Me = Alice };
    }

    private string[] Format(string action, string data) =>
        [.. _format.Push(JsonSerializer.Deserialize($$"""{"action":"{{action}}","push":true,"data":{{data}}}""", ProtocolJsonContext.Default.Envelope)!)];

    private static string Message(long id, long from, long to, string content, string status = "sent", bool recalled = false) =>
        $$"""{"message_id":{{id}},"sender_id":{{from}},"receiver_id":{{to}},"content":{{JsonSerializer.Serialize(content)}},"type":"text","timestamp":{{Earlier}},"status":"{{status}}","recalled":{{(recalled ? "true" : "false")}}}""";

    [Fact]
    public void A_message_shows_its_time_sender_text_and_id()
    {
        Assert.Equal(["[11:00:00] bob: hi alice  (#43)"], Format("message", Message(43, Bob, Alice, "hi alice")));
        // One's own message (from another device) names the receiver and its status.
        Assert.Equal(["[11:00:00] me -> bob: hello  (#44, delivered)"], Format("message", Message(44, Alice, Bob, "hello", "delivered")));
        // An unknown sender shows as their id; a recalled message shows no content.
        Assert.Equal(["[11:00:00] 300000003: (recalled)  (#45)"], Format("message", Message(45, 300000003, Alice, "", recalled: true)));
    }

    [Fact]
    public void Other_days_show_the_date()
    {
        long lastYear = new DateTimeOffset(2025, 12, 31, 23, 59, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        Assert.Equal("2025-12-31 23:59", _format.Time(lastYear));
        Assert.Equal("12:00:00", _format.Time(FixedClock.NowMs));
    }

    [Fact]
    public void Control_characters_from_others_never_reach_the_terminal()
    {
        string line = Assert.Single(Format("message", Message(46, Bob, Alice, "\u001b[2Jgotcha\r\nsecond line\ttab")));
        Assert.Equal("[11:00:00] bob: \uFFFD[2Jgotcha\n    second line\ttab  (#46)", line);
    }

    [Fact]
    public void Offline_messages_come_with_a_header_in_order()
    {
        string data = $$"""{"messages":[{{Message(1, Bob, Alice, "one")}},{{Message(2, Bob, Alice, "two")}}],"has_more":true}""";
        Assert.Equal(
        [
            "[12:00:00] * 2 messages arrived while you were away",
            "[11:00:00] bob: one  (#1)",
            "[11:00:00] bob: two  (#2)",
            "[12:00:00] * more are coming",
        ], Format("offline_messages", data));
    }

    [Theory]
    [InlineData("message_status", """{"message_id":44,"peer_id":200000002,"status":"delivered"}""", "#44 delivered (bob)")]
    [InlineData("message_status", """{"up_to_message_id":44,"peer_id":200000002,"status":"read"}""", "bob read your messages up to #44")]
    [InlineData("message_recalled", """{"message_id":43,"by":200000002}""", "bob recalled message #43")]
    [InlineData("message_recalled", """{"message_id":44,"by":100000001}""", "you recalled message #44")]
    [InlineData("friend_request", """{"friend_request_id":7,"from":{"user_id":300000003,"username":"carol"},"message":"hi, it's carol","created_at":0}""",
        "friend request #7 from carol (300000003): \"hi, it's carol\" -- /accept 7 or /reject 7")]
    [InlineData("friend_request_result", """{"friend_request_id":7,"user_id":200000002,"username":"bob","accepted":true}""", "bob and you are now friends (request #7)")]
    [InlineData("friend_request_result", """{"friend_request_id":8,"user_id":200000002,"username":"bob","accepted":false}""", "bob declined your friend request #8")]
    [InlineData("friend_deleted", """{"user_id":200000002}""", "bob is no longer your friend")]
    [InlineData("presence", """{"user_id":200000002,"status":"busy","last_seen":0}""", "bob is now busy")]
    [InlineData("kicked", """{"reason":"same_device"}""", "signed out: this client_id logged in on another connection")]
    [InlineData("kicked", """{"reason":"revoked"}""", "signed out: this device's session was revoked")]
    [InlineData("server_shutdown", """{"reconnect_after_ms":5000}""", "the server is shutting down; try again in 5000 ms")]
    [InlineData("error", """{"code":"SERVER_BUSY","message":"too many connections"}""", "server error SERVER_BUSY: too many connections")]
    [InlineData("something_new", """{"x":1}""", "something_new: {\"x\":1}")]
    public void Every_push_reads_as_a_sentence(string action, string data, string expected) =>
        Assert.Equal(["[12:00:00] * " + expected], Format(action, data));

    [Fact]
    public void Presence_offline_tells_when_last_seen_and_friend_requests_teach_names()
    {
        Assert.Equal(["[12:00:00] * bob is now offline (last seen 11:00:00)"],
            Format("presence", $$"""{"user_id":{{Bob}},"status":"offline","last_seen":{{Earlier}}}"""));
        Format("friend_request", """{"friend_request_id":9,"from":{"user_id":300000003,"username":"carol"}}""");
        Assert.Equal("carol", _format.Names.Of(300000003));
    }

    [Fact]
    public void A_late_answer_and_a_failure_read_as_errors()
    {
        var late = new Envelope { Action = "search_users", RequestId = "9", Success = false, Code = "INTERNAL", Message = "oops" };
        Assert.Equal(["[12:00:00] * late answer to search_users: error INTERNAL: oops"], [.. _format.Push(late)]);
        var limited = JsonSerializer.Deserialize("""{"action":"login","success":false,"code":"RATE_LIMITED","message":"slow down","data":{"retry_after_ms":1500}}""",
            ProtocolJsonContext.Default.Envelope)!;
        Assert.Equal("error RATE_LIMITED: slow down (try again in 2 s)", PushFormatter.Failure(limited));
    }
}
