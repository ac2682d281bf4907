using System.Globalization;
using System.Text.Json;
using QkChat.Client;
using QkChat.Protocol;

namespace QkChat.Cli;

/// <summary>The command handlers: each sends its request(s), waits for the answer and prints the outcome.</summary>
internal sealed partial class Session
{
    private Task ExecuteAsync(Command c, CancellationToken ct) => c.Name switch
    {
        Command.Say => SayAsync(c["text"]!, ct),
        "help" => Done(Help(c["command"])),
        "quit" => Done(() => _quit = true),
        "code" => CodeAsync(c["email"]!, ct),
        "register" => RegisterAsync(c["username"]!, c["email"]!, c["password"], c["code"]!, ct),
        "login" => LoginAsync(c["user-or-email"]!, c["password"], c["client_id"], ct),
        "logout" => LogoutAsync(ct),
        "whoami" => Done(WhoAmI),
        "search" => SearchAsync(c["query"]!, ct),
        "add" => AddAsync(c["user"]!, c["message"], ct),
        "requests" => RequestsAsync(ct),
        "accept" => RespondAsync(Id(c["request_id"]), true, ct),
        "reject" => RespondAsync(Id(c["request_id"]), false, ct),
        "friends" => FriendsAsync(ct),
        "unfriend" => UnfriendAsync(c["user"]!, ct),
        "status" => StatusAsync(c["status"]!, ct),
        "chat" => ChatAsync(c["user"]!, ct),
        "history" => HistoryAsync(c["n"] is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : 20, ct),
        "conversations" => ConversationsAsync(ct),
        "read" => ReadAsync(ct),
        "recall" => RecallAsync(Id(c["message_id"]), ct),
        "sessions" => SessionsAsync(ct),
        "groups" => GroupsAsync(ct),
        "gcreate" => GroupCreateAsync(c["name"]!, c["user_ids"], ct),
        "gadd" => GroupAddAsync(Id(c["group_id"]), c["user_ids"]!, ct),
        "gleave" => GroupLeaveAsync(Id(c["group_id"]), ct),
        "gmembers" => GroupMembersAsync(Id(c["group_id"]), ct),
        "gsend" => GroupSendAsync(Id(c["group_id"]), c["text"]!, ct),
        "ghistory" => GroupHistoryAsync(Id(c["group_id"]), c["n"] is { } gn ? int.Parse(gn, CultureInfo.InvariantCulture) : 20, ct),
        "wait" => WaitAsync(c["push"]!, c["seconds"] is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : 10, ct),
        "gchat" => GroupChatAsync(Id(c["group_id"]), ct),
        "send-file" => SendFileAsync(c["path"]!, c["caption"], ct),
        "get-file" => GetFileAsync(Id(c["file_id"]), c["path"], ct),
        "raw" => RawAsync(c["action"]!, c["fields"], ct),
        _ => Done(() => Fail($"/{c.Name} is not implemented")),
    };

    private static Task Done(Action action)
    {
        action();
        return Task.CompletedTask;
    }

    private static long Id(string? text) => long.Parse(text!, CultureInfo.InvariantCulture);

    private Action Help(string? command) => () =>
    {
        if (command is not null)
        {
            if (CommandParser.Find(command) is { } spec) _out.Lines([$"usage: {spec.Usage}", "  " + spec.Help]);
            else Fail($"unknown command {command}: /help lists the commands");
            return;
        }
        int width = CommandParser.Specs.Max(s => s.Usage.Length) + 2;
        _out.Lines([
            "commands (a line without a leading / is a message to the current /chat; //text sends \"/text\"):",
            .. CommandParser.Specs.Select(s => "  " + s.Usage.PadRight(width) + s.Help),
            "words with spaces go in \"double\" or 'single' quotes; a message after /add needs none",
        ]);
    };

    private async Task SayAsync(string text, CancellationToken ct)
    {
        if (_group != 0)
        {
            await GroupSendAsync(_group, text, ct).ConfigureAwait(false);
            return;
        }
        if (_peer == 0)
        {
            Fail("no chat is open: /chat <user> first (/help lists the commands)");
            return;
        }
        long peer = _peer;
        string clientMsgId = "cli-" + Guid.NewGuid().ToString("N");
        if (await CallAsync(c => c.SendMessageAsync(peer, text, clientMsgId, "text", ct), ct) is not { } d) return;
        _out.Line(_format.Message(d.Long("message_id") ?? 0, _format.Me, peer, text,
            d.Long("timestamp") ?? _settings.Clock.GetUtcNow().ToUnixTimeMilliseconds(), d.Str("status") ?? "sent", false));
    }

    private async Task CodeAsync(string email, CancellationToken ct)
    {
        if (await CallAsync(c => c.SendVerificationCodeAsync(email, VerificationCodeTypes.Register, ct), ct) is not { } d) return;
        string valid = d.Long("expires_in_s") is { } s ? $" (valid {s / 60} min)" : "";
        _out.Line($"a code is on its way to {email}{valid}; then: /register <username> {email} <code>");
    }

    private async Task RegisterAsync(string username, string email, string? password, string code, CancellationToken ct)
    {
        password ??= await _input.ReadSecretAsync($"password for {username}: ", ct).ConfigureAwait(false);
        if (string.IsNullOrEmpty(password))
        {
            Fail("no password given");
            return;
        }
        if (await CallAsync(c => c.RegisterAsync(username, email, password, code, ct), ct) is not { } d) return;
        _names.Remember(d.Long("user_id"), d.Str("username"));
        _out.Line($"registered {d.Str("username") ?? username} (user id {d.Long("user_id")}); now: /login {d.Str("username") ?? username}");
    }

    private async Task LoginAsync(string user, string? password, string? clientId, CancellationToken ct)
    {
        password ??= await _input.ReadSecretAsync($"password for {user}: ", ct).ConfigureAwait(false);
        if (string.IsNullOrEmpty(password))
        {
            Fail("no password given");
            return;
        }
        clientId ??= _settings.DefaultClientId;
        if (await CallAsync(c => c.LoginAsync(user, password, clientId, _settings.Device, ct), ct) is not { } d) return;
        _format.Me = d.Long("user_id") ?? 0;
        _myName = d.Str("username") ?? user;
        _clientId = clientId;
        _names.Remember(_format.Me, _myName);
        _out.Line($"logged in as {_myName} (user id {_format.Me}, device {clientId})");
    }

    private async Task LogoutAsync(CancellationToken ct)
    {
        if (_conn is { } conn) conn.ExpectClose = true;
        if (await CallAsync(c => c.LogoutAsync(ct), ct) is null) return;
        // The server closes the connection now; closing it here too means the next command never races that close.
        if (_conn is { } closing)
        {
            _conn = null;
            await closing.DisposeAsync().ConfigureAwait(false);
        }
        _format.Me = 0;
        _myName = null;
        _peer = 0;
        _group = 0;
        _out.Line("logged out; /login signs in again");
    }

    private void WhoAmI() => _out.Line(_format.Me == 0
        ? $"not logged in (server {Endpoint})"
        : $"{_myName} (user id {_format.Me}, device {_clientId}) on {Endpoint}" + (_peer == 0 ? "" : $", chatting with {_format.Who(_peer)}"));

    private async Task SearchAsync(string query, CancellationToken ct)
    {
        if (await CallAsync(c => c.SearchUsersAsync(query, ct: ct), ct) is not { } d) return;
        var users = d.Items("users").ToList();
        if (users.Count == 0) _out.Line($"no user matches '{query}'");
        foreach (JsonElement u in users)
        {
            _names.Remember(u.Long("user_id"), u.Str("username"));
            _out.Line($"  {u.Long("user_id")}  {PushFormatter.Clean(u.Str("username") ?? "?")}  {u.Str("status")}");
        }
    }

    private async Task AddAsync(string user, string? message, CancellationToken ct)
    {
        if (await CallAsync(c => c.SendFriendRequestAsync(user, message, ct), ct) is not { } d) return;
        _out.Line(d.Bool("became_friends")
            ? $"{user} had asked you too: you are now friends"
            : $"friend request #{d.Long("friend_request_id")} sent to {user}");
    }

    private async Task RequestsAsync(CancellationToken ct)
    {
        if (await CallAsync(c => c.GetFriendRequestsAsync(ct), ct) is not { } d) return;
        var incoming = d.Items("incoming").ToList();
        var outgoing = d.Items("outgoing").ToList();
        if (incoming.Count + outgoing.Count == 0) _out.Line("no pending friend requests");
        foreach (JsonElement r in incoming) _out.Line("  " + Request(r, "from") + $"  -- /accept {r.Long("friend_request_id")}");
        foreach (JsonElement r in outgoing) _out.Line("  " + Request(r, "to"));
    }

    private string Request(JsonElement r, string direction)
    {
        _names.Remember(r.Long("user_id"), r.Str("username"));
        string note = r.Str("message") is { Length: > 0 } m ? $": \"{PushFormatter.Clean(m)}\"" : "";
        return $"#{r.Long("friend_request_id")} {direction} {_format.Who(r.Long("user_id"))} ({r.Long("user_id")}){note}";
    }

    private async Task RespondAsync(long requestId, bool accept, CancellationToken ct)
    {
        if (await CallAsync(c => c.RespondFriendRequestAsync(requestId, accept, ct), ct) is null) return;
        _out.Line(accept ? $"accepted friend request #{requestId}" : $"declined friend request #{requestId}");
    }

    private async Task FriendsAsync(CancellationToken ct)
    {
        if (await CallAsync(c => c.GetFriendListAsync(ct: ct), ct) is not { } d) return;
        var friends = d.Items("friends").ToList();
        if (friends.Count == 0) _out.Line("no friends yet: /search someone, then /add them");
        foreach (JsonElement f in friends)
        {
            _names.Remember(f.Long("user_id"), f.Str("username"));
            string remark = f.Str("remark") is { Length: > 0 } r ? $" \"{PushFormatter.Clean(r)}\"" : "";
            string seen = f.Str("status") == "offline" && f.Long("last_seen") is { } at and > 0 ? $" (last seen {_format.Time(at)})" : "";
            _out.Line($"  {f.Long("user_id")}  {_format.Who(f.Long("user_id"))}{remark}  {f.Str("status")}{seen}");
        }
    }

    private async Task UnfriendAsync(string user, CancellationToken ct)
    {
        if (await ResolveAsync(user, ct) is not { } id) return;
        if (await CallAsync(c => c.DeleteFriendAsync(id, ct), ct) is null) return;
        _out.Line($"{_format.Who(id)} is no longer your friend");
        if (_peer == id) _peer = 0;
    }

    private async Task StatusAsync(string status, CancellationToken ct)
    {
        if (await CallAsync(c => c.StatusUpdateAsync(status, ct: ct), ct) is null) return;
        _out.Line($"your status is now {status}");
    }

    private async Task ChatAsync(string user, CancellationToken ct)
    {
        if (await ResolveAsync(user, ct) is not { } id) return;
        _peer = id;
        _group = 0;
        string who = _names.Knows(id) ? $"{_format.Who(id)} ({id})" : $"user {id}";
        _out.Line($"chatting with {who}: type a line to send it; /history shows earlier messages");
    }

    private async Task HistoryAsync(int n, CancellationToken ct)
    {
        if (_peer == 0)
        {
            Fail("no chat is open: /chat <user> first");
            return;
        }
        long peer = _peer;
        if (await CallAsync(c => c.GetChatHistoryAsync(peer, n, ct: ct), ct) is not { } d) return;
        var messages = d.Items("messages").ToList();
        if (messages.Count == 0) _out.Line($"no messages with {_format.Who(peer)} yet");
        if (d.Bool("has_more")) _out.Line(n < 100 ? $"(earlier messages: /history {Math.Min(100, n * 2)})" : "(there are earlier messages)");
        messages.Reverse();   // the server sends newest first; a chat reads oldest first
        foreach (JsonElement m in messages)
        {
            NoteNewest(m);
            _out.Line(_format.Message(m));
        }
    }

    private async Task ConversationsAsync(CancellationToken ct)
    {
        if (await CallAsync(c => c.GetConversationsAsync(ct: ct), ct) is not { } d) return;
        var list = d.Items("conversations").ToList();
        if (list.Count == 0) _out.Line("no conversations yet");
        foreach (JsonElement c in list)
        {
            _names.Remember(c.Long("peer_id"), c.Str("username"));
            long unread = c.Long("unread_count") ?? 0;
            string last = c.Get("last_message") is { ValueKind: JsonValueKind.Object } m ? "  | " + _format.Message(m) : "";
            _out.Line($"  {_format.Who(c.Long("peer_id"))} ({c.Long("peer_id")}, {c.Str("status")}){(unread > 0 ? $"  {unread} unread" : "")}{last}");
        }
    }

    private async Task ReadAsync(CancellationToken ct)
    {
        if (_peer == 0)
        {
            Fail("no chat is open: /chat <user> first");
            return;
        }
        long peer = _peer, upTo = NewestFrom(peer);
        if (upTo == 0)
        {
            _out.Line($"no message from {_format.Who(peer)} shown yet (/history shows them)");
            return;
        }
        if (await CallAsync(c => c.MarkReadAsync(peer, upTo, ct), ct) is null) return;
        _out.Line($"marked read up to #{upTo}");
    }

    private async Task RecallAsync(long messageId, CancellationToken ct)
    {
        if (await CallAsync(c => c.RecallMessageAsync(messageId, ct), ct) is null) return;
        _out.Line($"recalled #{messageId}");
    }

    private async Task SessionsAsync(CancellationToken ct)
    {
        if (await CallAsync(c => c.GetSessionsAsync(ct), ct) is not { } d) return;
        foreach (JsonElement s in d.Items("sessions"))
        {
            string active = s.Long("last_active_at") is { } at ? $"  last active {_format.Time(at)}" : "";
            string from = s.Str("last_ip") is { } ip ? $" from {ip}" : "";
            _out.Line($"  {PushFormatter.Clean(s.Str("client_id") ?? "?")} ({PushFormatter.Clean(s.Str("device") ?? "")})" +
                      $"  {(s.Bool("online") ? "online" : "offline")}{active}{from}{(s.Bool("current") ? "  <- this one" : "")}");
        }
    }

    private async Task WaitAsync(string push, int seconds, CancellationToken ct)
    {
        if (!await _arrivals.WaitAsync(push, TimeSpan.FromSeconds(seconds), ct).ConfigureAwait(false))
            Fail($"no '{push}' push within {seconds} s");
    }

    private async Task RawAsync(string action, string? fields, CancellationToken ct)
    {
        using JsonDocument? doc = fields is null ? null : JsonDocument.Parse(fields);
        ChatClient client = await EnsureConnectedAsync(ct).ConfigureAwait(false);
        Envelope r = await client.RequestAsync(action, w =>
        {
            if (doc is null) return;
            // The envelope's own members are the client's to write.
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
                if (p.Name is not ("action" or "request_id")) p.WriteTo(w);
        }, ct: ct).ConfigureAwait(false);
        if (r.Success == true) _out.Line($"ok {r.Code}: {PushFormatter.Clean(r.Message ?? "")}");
        else Fail(PushFormatter.Failure(r));
        if (r.Data is { } data) _out.Line(data.GetRawText());
    }

    /// <summary>A user id from digits, a name seen before, or an exact username found by search_users.</summary>
    private async Task<long?> ResolveAsync(string user, CancellationToken ct)
    {
        if (user.All(char.IsAsciiDigit) && long.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out long id) && id > 0)
            return id;
        if (_names.TryFind(user, out id)) return id;
        if (await CallAsync(c => c.SearchUsersAsync(user, ct: ct), ct) is not { } d) return null;
        foreach (JsonElement u in d.Items("users"))
        {
            _names.Remember(u.Long("user_id"), u.Str("username"));
            if (string.Equals(u.Str("username"), user, StringComparison.OrdinalIgnoreCase) && u.Long("user_id") is { } found) return found;
        }
        Fail($"no user named '{user}' (try /search {user})");
        return null;
    }
}
