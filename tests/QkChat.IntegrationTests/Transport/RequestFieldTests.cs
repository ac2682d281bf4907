using System.Text;
using QkChat.Client;
using QkChat.IntegrationTests.Chat;
using QkChat.Protocol;
using Xunit;

namespace QkChat.IntegrationTests.Transport;

/// <summary>
/// Every string a request can carry and every field of every action, read by the real features on a logged-in
/// connection: an escaped lone surrogate is BAD_JSON and the connection stays; a present field of the wrong type
/// (null included) is INVALID_ARGUMENT naming the field, whatever the action (protocol.md §2).
/// </summary>
public sealed class RequestFieldTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    // What each field is (protocol.md §5 and §7): s string, i integer, b boolean, a array of integers,
    // u a string or an integer (friend_request's user_identifier).
    private static readonly (string Action, string Field, char Kind)[] Fields =
    [
        ("heartbeat", "client_id", 's'),
        ("send_verification_code", "email", 's'), ("send_verification_code", "type", 's'),
        ("register", "username", 's'), ("register", "email", 's'), ("register", "password", 's'), ("register", "verification_code", 's'),
        ("login", "username", 's'), ("login", "password", 's'), ("login", "client_id", 's'), ("login", "device", 's'),
        ("login_token", "token", 's'), ("login_token", "client_id", 's'),
        ("reset_password", "email", 's'), ("reset_password", "verification_code", 's'), ("reset_password", "new_password", 's'),
        ("change_password", "old_password", 's'), ("change_password", "new_password", 's'),
        ("revoke_session", "client_id", 's'),
        ("get_security_events", "limit", 'i'), ("get_security_events", "before", 'i'),
        ("status_update", "status", 's'), ("status_update", "client_id", 's'),
        ("search_users", "query", 's'), ("search_users", "limit", 'i'),
        ("friend_request", "user_identifier", 'u'), ("friend_request", "message", 's'),
        ("respond_friend_request", "friend_request_id", 'i'), ("respond_friend_request", "accept", 'b'),
        ("get_friend_list", "limit", 'i'), ("get_friend_list", "after_user_id", 'i'),
        ("delete_friend", "friend_id", 'i'),
        ("send_message", "receiver_id", 'i'), ("send_message", "content", 's'), ("send_message", "type", 's'), ("send_message", "client_msg_id", 's'),
        ("message_ack", "message_ids", 'a'),
        ("mark_read", "chat_user_id", 'i'), ("mark_read", "up_to_message_id", 'i'),
        ("recall_message", "message_id", 'i'),
        ("get_chat_history", "chat_user_id", 'i'), ("get_chat_history", "limit", 'i'), ("get_chat_history", "offset", 'i'), ("get_chat_history", "before_message_id", 'i'),
        ("get_conversations", "limit", 'i'),
        ("sync_messages", "after_message_id", 'i'), ("sync_messages", "limit", 'i'),
        ("check_username", "username", 's'), ("check_email", "email", 's'),
        ("ignore_friend_request", "friend_request_id", 'i'),
        ("block_user", "user_id", 'i'), ("unblock_user", "user_id", 'i'),
        ("set_friend_remark", "friend_id", 'i'), ("set_friend_remark", "remark", 's'),
        ("create_friend_group", "group_name", 's'),
        ("rename_friend_group", "group_id", 'i'), ("rename_friend_group", "new_name", 's'),
        ("delete_friend_group", "group_id", 'i'),
        ("move_friend_to_group", "friend_id", 'i'), ("move_friend_to_group", "group_id", 'i'),
        ("search_messages", "keyword", 's'), ("search_messages", "chat_user_id", 'i'), ("search_messages", "limit", 'i'),
        ("search_messages", "group_id", 'i'),
        ("delete_message", "message_id", 'i'),
    ];

    private static string[] WrongValues(char kind) => kind switch
    {
        's' => ["true", "0", "1.5", "[]", "{}", "null"],
        'i' => ["true", "\"7\"", "1.5", "[]", "{}", "null"],
        'b' => ["0", "\"true\"", "1.5", "[]", "{}", "null"],
        'a' => ["true", "0", "\"1\"", "{}", "null", "[1.5]", "[\"1\"]", "[null]", "[[1]]"],
        _ => ["true", "1.5", "[]", "{}", "null"],
    };

    [Fact(Timeout = 180_000)] // ~370 requests on a loaded 2-core box, with a MariaDB-backed harness to start
    public async Task Every_ill_typed_field_of_every_action_is_INVALID_ARGUMENT_naming_it()
    {
        await using var harness = await ChatHarness.StartAsync();
        var (_, name) = await harness.CreateUserAsync();
        var client = await harness.LoginAsync(name);
        var wrong = new List<string>();
        var ct = TestContext.Current.CancellationToken;
        int n = 0;
        foreach (var (action, field, kind) in Fields)
        {
            foreach (string value in WrongValues(kind))
            {
                string id = "t" + n++;
                var answer = await Answer(client, $$"""{"action":"{{action}}","request_id":"{{id}}","{{field}}":{{value}}}""", id, ct);
                if (answer.Code != ErrorCodes.InvalidArgument || answer.Message?.StartsWith(field + ":", StringComparison.Ordinal) != true)
                    wrong.Add($"{action} {field}={value}: {answer.Code} {answer.Message}");
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.True(client.IsConnected);
    }

    private static readonly string[] LoneSurrogates =
    [
        """{"action":"\ud800","request_id":"bad"}""",
        """{"action":"heartbeat","request_id":"\udc00"}""",
        """{"action":"heartbeat","request_id":"bad","client_id":"x\ud800"}""",
        """{"action":"send_message","request_id":"bad","receiver_id":100000001,"content":"hi \udc00","type":"text"}""",
        """{"action":"friend_request","request_id":"bad","user_identifier":"\ud83d"}""",
        """{"action":"status_update","request_id":"bad","status":"\udfff"}""",
        """{"action":"search_users","request_id":"bad","query":"\ud800\ud800"}""",
        """{"action":"login","request_id":"bad","username":"\udbff","password":"whatever long","client_id":"c"}""",
        """{"action":"check_username","request_id":"bad","username":"a\ud800"}""",
        """{"action":"set_friend_remark","request_id":"bad","friend_id":100000001,"remark":"\ud800"}""",
        """{"action":"create_friend_group","request_id":"bad","group_name":"\udc00x"}""",
        """{"action":"search_messages","request_id":"bad","keyword":"\ud800"}""",
        """{"action":"heartbeat","request_id":"bad","unknown":{"deep":["\ud800"]}}""",
        """{"action":"heartbeat","request_id":"bad","\ud800":1}""",
    ];

    [Fact(Timeout = 120_000)] // 14 logins and round trips on a loaded 2-core box
    public async Task An_escaped_lone_surrogate_in_any_string_is_BAD_JSON_and_the_connection_stays()
    {
        await using var harness = await ChatHarness.StartAsync();
        var (_, name) = await harness.CreateUserAsync();
        var wrong = new List<string>();
        for (int i = 0; i < LoneSurrogates.Length; i++)
        {
            // A device per body: on a failure the next body still starts on an open connection.
            var client = await harness.LoginAsync(name, "device" + i);
            var ct = TestContext.Current.CancellationToken;
            string json = LoneSurrogates[i];
            try
            {
                await client.SendFrameAsync(Encoding.UTF8.GetBytes(json), ct);
                var answer = await client.WaitForAsync(e => !e.Push, Patience, "the answer to the bad frame", ct);
                var after = await client.RequestAsync("heartbeat", ct: ct);
                if (answer.Code != ErrorCodes.BadJson || answer.Success != false || after.Code != ErrorCodes.Ok)
                    wrong.Add($"{json}: {answer.Code} {answer.Message}, then heartbeat {after.Code}");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                wrong.Add($"{json}: {e.GetType().Name} {e.Message} (connected: {client.IsConnected})");
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    private static async Task<Envelope> Answer(ChatClient client, string json, string id, CancellationToken ct)
    {
        await client.SendFrameAsync(Encoding.UTF8.GetBytes(json), ct);
        return await client.WaitForAsync(e => !e.Push && e.RequestId == id, Patience, "the answer to " + json, ct);
    }
}
