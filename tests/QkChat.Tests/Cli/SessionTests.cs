using System.Text.Json;
using QkChat.Cli;
using QkChat.Client;
using QkChat.Tests.Client;
using Xunit;

namespace QkChat.Tests.Cli;

/// <summary>
/// A whole client session against the fake server: the lines a script would pipe in go out as the right requests,
/// in order, each after the previous answer; answers and pushes are printed; incoming messages are acknowledged.
/// </summary>
public sealed class SessionTests : IAsyncDisposable
{
    private const long Alice = 100000001, Bob = 200000002;
    private static readonly long T = FixedClock.NowMs - 60_000;   // 11:59:00

    private readonly FakeServer _server = new();
    private readonly CapturedOutput _output = new();
    private readonly ScriptedInput _input = new();
    private readonly Session _session;

    public SessionTests()
    {
        var settings = new SessionSettings("127.0.0.1", _server.Port, new ChatClientOptions(), "cli-testhost")
        {
            Clock = new FixedClock(),
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
        };
        _session = new Session(settings, _input, new LineOutput(_output, redrawPrompt: false));
    }

    public async ValueTask DisposeAsync()
    {
        await _session.DisposeAsync();
        _server.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Reads the next request, skipping heartbeats (their timing is the client's own).</summary>
    private static async Task<JsonElement> NextAsync(FakeConnection server, string action)
    {
        while (true)
        {
            JsonElement request = await server.ReadRequestAsync();
            string? got = request.GetProperty("action").GetString();
            if (got == "heartbeat")
            {
                await server.SendAsync(FakeConnection.ResponseTo(request, $$"""{"server_time":{{FixedClock.NowMs}}}"""));
                continue;
            }
            Assert.Equal(action, got);
            return request;
        }
    }

    private static string Msg(long id, long from, long to, string content) =>
        $$"""{"message_id":{{id}},"sender_id":{{from}},"receiver_id":{{to}},"content":"{{content}}","type":"text","timestamp":{{T}},"status":"sent","recalled":false}""";

    private static string Push(string action, string data) => $$"""{"action":"{{action}}","push":true,"data":""" + data + "}";

    [Fact(Timeout = 60_000)]
    public async Task A_piped_script_sends_its_requests_in_order_and_prints_answers_and_pushes()
    {
        Task<FakeConnection> accepted = _server.AcceptAsync();
        _input.Type(
            "/login alice s3cret-pass laptop",
            "/chat bob",
            "hello \"bob\", it's me",
            "/wait message",
            "/history 2",
            "/read",
            "/quit");
        Task<int> run = _session.RunAsync(Ct);
        await using FakeConnection server = await accepted;

        JsonElement login = await NextAsync(server, "login");
        Assert.Equal(("alice", "s3cret-pass", "laptop", "qkchat cli"),
            (login.GetProperty("username").GetString(), login.GetProperty("password").GetString(),
             login.GetProperty("client_id").GetString(), login.GetProperty("device").GetString()));
        await server.SendAsync(FakeConnection.ResponseTo(login, $$"""{"user_id":{{Alice}},"username":"alice","token":"t"}"""));

        // "bob" is not known yet: the client looks him up.
        JsonElement search = await NextAsync(server, "search_users");
        Assert.Equal("bob", search.GetProperty("query").GetString());
        await server.SendAsync(FakeConnection.ResponseTo(search, $$"""{"users":[{"user_id":{{Bob}},"username":"bob","status":"online"}]}"""));

        JsonElement send = await NextAsync(server, "send_message");
        Assert.Equal(Bob, send.GetProperty("receiver_id").GetInt64());
        Assert.Equal("hello \"bob\", it's me", send.GetProperty("content").GetString());
        Assert.Equal("text", send.GetProperty("type").GetString());
        Assert.StartsWith("cli-", send.GetProperty("client_msg_id").GetString());
        await server.SendAsync(FakeConnection.ResponseTo(send, $$"""{"message_id":42,"timestamp":{{T}},"status":"sent"}"""));

        // Bob answers while the client waits for it; the client acknowledges the push by itself.
        await _output.WaitForLineAsync("me -> bob");
        await server.SendAsync(Push("presence", $$"""{"user_id":{{Bob}},"status":"busy","last_seen":0}"""));
        await server.SendAsync(Push("message", Msg(43, Bob, Alice, "hi alice")));
        JsonElement ack = await NextAsync(server, "message_ack");
        Assert.Equal([43L], ack.GetProperty("message_ids").EnumerateArray().Select(e => e.GetInt64()));
        await server.SendAsync(FakeConnection.ResponseTo(ack));

        JsonElement history = await NextAsync(server, "get_chat_history");
        Assert.Equal((Bob, 2), (history.GetProperty("chat_user_id").GetInt64(), history.GetProperty("limit").GetInt32()));
        await server.SendAsync(FakeConnection.ResponseTo(history,
            $$"""{"messages":[{{Msg(43, Bob, Alice, "hi alice")}},{{Msg(42, Alice, Bob, "hello")}}],"has_more":false}"""));

        // /read marks up to the newest message shown from bob.
        JsonElement read = await NextAsync(server, "mark_read");
        Assert.Equal((Bob, 43L), (read.GetProperty("chat_user_id").GetInt64(), read.GetProperty("up_to_message_id").GetInt64()));
        await server.SendAsync(FakeConnection.ResponseTo(read));

        Assert.Equal(0, await run.WaitAsync(Waits.Short, Ct));
        Assert.Equal(
        [
            "logged in as alice (user id 100000001, device laptop)",
            "chatting with bob (200000002): type a line to send it; /history shows earlier messages",
            "[11:59:00] me -> bob: hello \"bob\", it's me  (#42, sent)",
            "[12:00:00] * bob is now busy",
            "[11:59:00] bob: hi alice  (#43)",
            "[11:59:00] me -> bob: hello  (#42, sent)",
            "[11:59:00] bob: hi alice  (#43)",
            "marked read up to #43",
        ], _output.Lines);
    }

    [Fact(Timeout = 60_000)]
    public async Task Offline_messages_are_acknowledged_together_and_heartbeats_keep_the_connection()
    {
        Task<FakeConnection> accepted = _server.AcceptAsync();
        _input.Type("/login alice");
        Task<int> run = _session.RunAsync(Ct);
        await using FakeConnection server = await accepted;

        _input.Type("pw-from-the-next-line");   // no password on the command line: the next line is the password
        JsonElement login = await NextAsync(server, "login");
        Assert.Equal(("pw-from-the-next-line", "cli-testhost"), (login.GetProperty("password").GetString(), login.GetProperty("client_id").GetString()));
        await server.SendAsync(FakeConnection.ResponseTo(login, $$"""{"user_id":{{Alice}},"username":"alice"}"""));
        await server.SendAsync(Push("offline_messages", $$"""{"messages":[{{Msg(7, Bob, Alice, "one")}},{{Msg(9, Bob, Alice, "two")}}],"has_more":false}"""));

        // The sender's name is not known yet: the client learns it from the friend list (only friends send messages).
        JsonElement friends = await NextAsync(server, "get_friend_list");
        await server.SendAsync(FakeConnection.ResponseTo(friends, $$"""{"friends":[{"user_id":{{Bob}},"username":"bob","status":"online","last_seen":0}]}"""));

        JsonElement ack = await NextAsync(server, "message_ack");
        Assert.Equal([7L, 9L], ack.GetProperty("message_ids").EnumerateArray().Select(e => e.GetInt64()));
        await server.SendAsync(FakeConnection.ResponseTo(ack));

        // Nothing typed for a while: the client sends heartbeats on its own (every 200 ms here, 30 s for real).
        JsonElement heartbeat = await server.ReadRequestAsync();
        Assert.Equal("heartbeat", heartbeat.GetProperty("action").GetString());
        await server.SendAsync(FakeConnection.ResponseTo(heartbeat));

        _input.End();
        Assert.Equal(0, await run.WaitAsync(Waits.Short, Ct));
        Assert.Equal(
        [
            "logged in as alice (user id 100000001, device cli-testhost)",
            "[12:00:00] * 2 messages arrived while you were away",
            "[11:59:00] bob: one  (#7)",
            "[11:59:00] bob: two  (#9)",
        ], _output.Lines);
    }

    private static string Entry(long seq, long from, string content) =>
        $$"""{"group_id":7,"seq":{{seq}},"message_id":{{900 + seq}},"sender_id":{{from}},"type":"text","content":"{{content}}","timestamp":{{T}},"recalled":false}""";

    private static string Member(long id, string name, string role) =>
        $$"""{"user_id":{{id}},"username":"{{name}}","role":"{{role}}","status":"online","joined_at":{{T}}}""";

    [Fact(Timeout = 60_000)]
    public async Task Group_entries_from_members_who_are_not_friends_show_their_names()
    {
        const long Carol = 300000003, Dave = 400000004;
        Task<FakeConnection> accepted = _server.AcceptAsync();
        _input.Type("/login alice");
        Task<int> run = _session.RunAsync(Ct);
        await using FakeConnection server = await accepted;
        _input.Type("pw");
        JsonElement login = await NextAsync(server, "login");
        await server.SendAsync(FakeConnection.ResponseTo(login, $$"""{"user_id":{{Alice}},"username":"alice"}"""));

        // A group entry pushed by carol, a member but no friend: her name comes from the group's member list.
        await server.SendAsync(Push("group_message", Entry(5, Carol, "hi all")));
        JsonElement members = await NextAsync(server, "get_group_members");
        Assert.Equal(7, members.GetProperty("group_id").GetInt64());
        await server.SendAsync(FakeConnection.ResponseTo(members,
            $$"""{"members":[{{Member(Alice, "alice", "owner")}},{{Member(Carol, "carol", "member")}}],"has_more":false}"""));
        await _output.WaitForLineAsync("carol: hi all");

        // /ghistory with an entry of dave, added since: the members are asked again before the entries are shown.
        _input.Type("/ghistory 7 2");
        JsonElement history = await NextAsync(server, "get_group_history");
        await server.SendAsync(FakeConnection.ResponseTo(history, $$"""{"messages":[{{Entry(6, Dave, "hello")}},{{Entry(5, Carol, "hi all")}}],"has_more":true}"""));
        JsonElement again = await NextAsync(server, "get_group_members");
        await server.SendAsync(FakeConnection.ResponseTo(again,
            $$"""{"members":[{{Member(Alice, "alice", "owner")}},{{Member(Carol, "carol", "member")}},{{Member(Dave, "dave", "member")}}],"has_more":false}"""));
        JsonElement read = await NextAsync(server, "mark_group_read");
        Assert.Equal((7L, 6L), (read.GetProperty("group_id").GetInt64(), read.GetProperty("up_to_seq").GetInt64()));
        await server.SendAsync(FakeConnection.ResponseTo(read, """{"read_seq":6}"""));

        _input.End();
        Assert.Equal(0, await run.WaitAsync(Waits.Short, Ct));
        Assert.Equal(
        [
            "logged in as alice (user id 100000001, device cli-testhost)",
            "[11:59:00] [group 7 #5] carol: hi all",
            "[11:59:00] [group 7 #5] carol: hi all",
            "[11:59:00] [group 7 #6] dave: hello",
        ], _output.Lines);
    }

    [Fact(Timeout = 60_000)]
    public async Task Mistakes_and_refusals_are_printed_and_the_exit_code_says_so()
    {
        Task<FakeConnection> accepted = _server.AcceptAsync();
        _input.Type("/frobnicate", "hello?", "/accept x", "/add bob", "/quit");
        Task<int> run = _session.RunAsync(Ct);
        await using FakeConnection server = await accepted;

        // Only /add reaches the server (nobody is logged in).
        JsonElement add = await NextAsync(server, "friend_request");
        Assert.Equal("bob", add.GetProperty("user_identifier").GetString());
        Assert.False(add.TryGetProperty("message", out _));
        await server.SendAsync(FakeConnection.ResponseTo(add, "{}", "UNAUTHENTICATED").Replace("\"m\"", "\"log in first\""));

        Assert.Equal(1, await run.WaitAsync(Waits.Short, Ct));
        Assert.Equal(
        [
            "unknown command /frobnicate: /help lists the commands",
            "no chat is open: /chat <user> first (/help lists the commands)",
            "<request_id> must be a positive number, not 'x'; usage: /accept <request_id>",
            "error UNAUTHENTICATED: log in first",
        ], _output.Lines);
    }

    [Fact(Timeout = 60_000)]
    public async Task After_a_kick_the_next_command_connects_again()
    {
        Task<FakeConnection> accepted = _server.AcceptAsync();
        Task<int> run = _session.RunAsync(Ct);
        FakeConnection first = await accepted;
        await first.SendAsync("""{"action":"kicked","push":true,"data":{"reason":"same_device"}}""");
        await _output.WaitForLineAsync("signed out");
        first.Reset();
        await _output.WaitForLineAsync("disconnected");

        Task<FakeConnection> again = _server.AcceptAsync();
        _input.Type("/search bo");
        await using FakeConnection second = await again;
        JsonElement search = await NextAsync(second, "search_users");
        await second.SendAsync(FakeConnection.ResponseTo(search, """{"users":[]}"""));
        _input.End();

        Assert.Equal(0, await run.WaitAsync(Waits.Short, Ct));
        string[] lines = _output.Lines;
        Assert.Equal("[12:00:00] * signed out: this client_id logged in on another connection", lines[0]);
        Assert.StartsWith("[12:00:00] * disconnected (", lines[1]);
        Assert.Equal($"[12:00:00] * connecting to 127.0.0.1:{_server.Port} again", lines[2]);
        Assert.Equal("no user matches 'bo'", lines[3]);
        await first.DisposeAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task Logout_ends_the_connection_and_the_next_login_opens_a_new_one()
    {
        Task<FakeConnection> accepted = _server.AcceptAsync();
        _input.Type("/logout", "/login alice pw");
        Task<int> run = _session.RunAsync(Ct);
        await using FakeConnection first = await accepted;
        Task<FakeConnection> again = _server.AcceptAsync();
        await first.SendAsync(FakeConnection.ResponseTo(await NextAsync(first, "logout")));

        await using FakeConnection second = await again;
        await second.SendAsync(FakeConnection.ResponseTo(await NextAsync(second, "login"), $$"""{"user_id":{{Alice}},"username":"alice"}"""));
        _input.End();

        Assert.Equal(0, await run.WaitAsync(Waits.Short, Ct));
        Assert.Equal(["logged out; /login signs in again", "logged in as alice (user id 100000001, device cli-testhost)"], _output.Lines);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unreachable_server_is_reported_with_exit_code_1()
    {
        int port = _server.Port;
        _server.Dispose();
        var settings = new SessionSettings("127.0.0.1", port, new ChatClientOptions(), "cli-x");
        await using var session = new Session(settings, _input, new LineOutput(_output, redrawPrompt: false));
        Assert.Equal(1, await session.RunAsync(Ct));
        Assert.StartsWith($"qkchat: cannot reach 127.0.0.1:{port}: ", Assert.Single(_output.Lines));
    }
}
