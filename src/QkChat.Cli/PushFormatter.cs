using System.Globalization;
using System.Text;
using System.Text.Json;
using QkChat.Protocol;

namespace QkChat.Cli;

/// <summary>User ids to names, learned from every answer and push that carries both (thread-safe: pushes fill it too).</summary>
internal sealed class UserNames
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, string> _names = [];

    public void Remember(long? id, string? name)
    {
        if (id is not { } known || string.IsNullOrEmpty(name)) return;
        lock (_lock) _names[known] = name;
    }

    /// <summary>The name if known, else the id itself.</summary>
    public string Of(long id)
    {
        lock (_lock) return _names.TryGetValue(id, out string? name) ? name : id.ToString(CultureInfo.InvariantCulture);
    }

    public bool Knows(long id)
    {
        lock (_lock) return _names.ContainsKey(id);
    }

    public bool TryFind(string name, out long id)
    {
        lock (_lock)
        {
            foreach (var (known, n) in _names)
            {
                if (!n.Equals(name, StringComparison.OrdinalIgnoreCase)) continue;
                id = known;
                return true;
            }
        }
        id = 0;
        return false;
    }
}

/// <summary>
/// Turns pushes, messages and failures into the lines a person reads (protocol.md §6). Pure apart from the clock:
/// times are shown in the clock's local time zone, "HH:mm:ss" today and "yyyy-MM-dd HH:mm" on other days.
/// </summary>
internal sealed class PushFormatter(UserNames names, TimeProvider clock)
{
    private long _me;

    /// <summary>The logged-in user (0 before login): their own messages read "me -> peer".</summary>
    public long Me
    {
        get => Interlocked.Read(ref _me);
        set => Interlocked.Exchange(ref _me, value);
    }

    public UserNames Names => names;

    public IEnumerable<string> Push(Envelope push)
    {
        JsonElement d = push.Data ?? Json.EmptyObject;
        if (!push.Push)
        {
            // A response nobody waited for any more (its request timed out).
            yield return Note($"late answer to {push.Action}: {Failure(push)}");
            yield break;
        }
        switch (push.Action)
        {
            case PushNames.Message:
                yield return Message(d);
                break;
            case PushNames.OfflineMessages:
                var messages = d.Items("messages").ToList();
                yield return Note($"{Count(messages.Count, "message")} arrived while you were away");
                foreach (JsonElement m in messages) yield return Message(m);
                if (d.Bool("has_more")) yield return Note("more are coming");
                break;
            case PushNames.MessageStatus:
                string peer = Who(d.Long("peer_id"));
                string status = d.Str("status") ?? "?";
                yield return d.Long("up_to_message_id") is { } upTo
                    ? Note($"{peer} {(status == "read" ? "read" : "got")} your messages up to #{upTo}")
                    : Note($"#{d.Long("message_id")} {status} ({peer})");
                break;
            case PushNames.MessageRecalled:
                long? by = d.Long("by");
                yield return Note($"{(by == Me ? "you" : Who(by))} recalled message #{d.Long("message_id")}");
                break;
            case PushNames.FriendRequest:
                JsonElement from = d.Get("from") ?? Json.EmptyObject;
                names.Remember(from.Long("user_id"), from.Str("username"));
                long? requestId = d.Long("friend_request_id");
                string note = d.Str("message") is { Length: > 0 } text ? $": \"{Clean(text)}\"" : "";
                yield return Note($"friend request #{requestId} from {Clean(from.Str("username") ?? "?")} ({from.Long("user_id")}){note}" +
                                  $" -- /accept {requestId} or /reject {requestId}");
                break;
            case PushNames.FriendRequestResult:
                names.Remember(d.Long("user_id"), d.Str("username"));
                yield return Note(d.Bool("accepted")
                    ? $"{Who(d.Long("user_id"))} and you are now friends (request #{d.Long("friend_request_id")})"
                    : $"{Who(d.Long("user_id"))} declined your friend request #{d.Long("friend_request_id")}");
                break;
            case PushNames.FriendDeleted:
                yield return Note($"{Who(d.Long("user_id"))} is no longer your friend");
                break;
            case PushNames.Presence:
                string seen = d.Str("status") == "offline" && d.Long("last_seen") is { } at and > 0 ? $" (last seen {Time(at)})" : "";
                yield return Note($"{Who(d.Long("user_id"))} is now {d.Str("status") ?? "?"}{seen}");
                break;
            case PushNames.Kicked:
                yield return Note(d.Str("reason") switch
                {
                    "same_device" => "signed out: this client_id logged in on another connection",
                    "revoked" => "signed out: this device's session was revoked",
                    var reason => $"signed out by the server ({reason ?? "no reason given"})",
                });
                break;
            case PushNames.ServerShutdown:
                yield return Note($"the server is shutting down; try again in {d.Long("reconnect_after_ms") ?? 0} ms");
                break;
            case PushNames.GroupMessage:
                yield return GroupEntry(d);
                break;
            case PushNames.GroupEvent:
                yield return Note($"group {d.Long("group_id")}: {GroupEvent(d.Str("event"), d.Long("actor_id"), d.Items("user_ids"), d.Str("name") ?? d.Str("role"))}");
                break;
            case PushNames.GroupMessageRecalled:
                yield return Note($"group {d.Long("group_id")}: {Who(d.Long("by"))} recalled entry {d.Long("seq")}");
                break;
            case PushNames.GroupRead:
                yield return Note($"group {d.Long("group_id")}: read up to entry {d.Long("read_seq")} on another device");
                break;
            case PushNames.Error:
                yield return Note($"server error {d.Str("code")}: {Clean(d.Str("message") ?? "")}");
                break;
            default:
                yield return Note($"{push.Action}: {d.GetRawText()}");
                break;
        }
    }

    /// <summary>"[12:34:56] alice: hi  (#42)", or for one's own "[12:34:56] me -> alice: hi  (#42, read)".</summary>
    public string Message(JsonElement m) => Message(m.Long("message_id") ?? 0, m.Long("sender_id") ?? 0, m.Long("receiver_id") ?? 0,
        m.Str("content"), m.Long("timestamp") ?? 0, m.Str("status"), m.Bool("recalled"), FileText(m.Get("file")));

    /// <param name="file">A file message's "[file ID: name, size]" (<see cref="FileText(long, string, long)"/>), shown before the caption.</param>
    public string Message(long id, long sender, long receiver, string? content, long timestamp, string? status, bool recalled, string? file = null)
    {
        string who = sender == Me ? $"me -> {Who(receiver)}" : receiver == Me || Me == 0 ? Who(sender) : $"{Who(sender)} -> {Who(receiver)}";
        string body = recalled ? "(recalled)" : Clean(content ?? "");
        if (!recalled && file is not null) body = body.Length == 0 ? file : file + " " + body;
        string tail = sender == Me && status is not null ? $"#{id}, {status}" : $"#{id}";
        return $"[{Time(timestamp)}] {who}: {body}  ({tail})";
    }

    /// <summary>"[12:34:56] [group 7 #12] alice: hi", or the event of a system entry.</summary>
    public string GroupEntry(JsonElement e)
    {
        string where = $"[group {e.Long("group_id")} #{e.Long("seq")}]";
        if (e.Str("type") == "system")
            return $"[{Time(e.Long("timestamp") ?? 0)}] {where} * {GroupEvent(e.Str("event"), e.Long("sender_id"), e.Items("user_ids"), e.Str("content"))}";
        string body = e.Bool("recalled") ? "(recalled)" : Clean(e.Str("content") ?? "");
        if (!e.Bool("recalled") && FileText(e.Get("file")) is { } file) body = body.Length == 0 ? file : file + " " + body;
        return $"[{Time(e.Long("timestamp") ?? 0)}] {where} {Who(e.Long("sender_id"))}: {body}";
    }

    /// <summary>"alice added bob, carol", "alice renamed the group to \"x\"", ...</summary>
    private string GroupEvent(string? evt, long? actor, IEnumerable<JsonElement> userIds, string? detail)
    {
        string users = string.Join(", ", userIds.Select(u => Who(u.ValueKind == JsonValueKind.Number ? u.GetInt64() : null)));
        return evt switch
        {
            "created" => $"{Who(actor)} created the group",
            "member_added" => $"{Who(actor)} added {users}",
            "member_removed" => $"{Who(actor)} removed {users}",
            "member_left" => $"{users} left",
            "role_changed" => $"{Who(actor)} made {users} {Clean(detail ?? "?")}",
            "owner_transferred" => $"{Who(actor)} handed ownership to {users}",
            "renamed" => $"{Who(actor)} renamed the group to \"{Clean(detail ?? "")}\"",
            "dissolved" => $"{Who(actor)} dissolved the group",
            _ => $"{Clean(evt ?? "?")} ({users})",
        };
    }

    /// <summary>"[file 12: photo.png, 1.2 MiB]": what /get-file takes, the name (cleaned) and the size.</summary>
    public static string FileText(long fileId, string name, long size) => $"[file {fileId}: {Clean(name)}, {Session.Bytes(size)}]";

    private static string? FileText(JsonElement? file) =>
        file is { ValueKind: JsonValueKind.Object } f && f.Long("file_id") is { } id ? FileText(id, f.Str("name") ?? "?", f.Long("size") ?? 0) : null;

    /// <summary>"error CODE: message" for an answer with success false (and the wait a rate limit asks for).</summary>
    public static string Failure(Envelope response)
    {
        string text = $"error {response.Code ?? "?"}: {Clean(response.Message ?? "")}";
        if (response.Data is { } d && d.Long("retry_after_ms") is { } wait) text += $" (try again in {(wait + 999) / 1000} s)";
        return text;
    }

    /// <summary>A line about something that happened, stamped with the time it is shown.</summary>
    public string Note(string text) => $"[{Time(clock.GetUtcNow().ToUnixTimeMilliseconds())}] * {text}";

    public string Time(long unixMs)
    {
        TimeZoneInfo zone = clock.LocalTimeZone;
        DateTimeOffset at = TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(unixMs), zone);
        DateTimeOffset now = TimeZoneInfo.ConvertTime(clock.GetUtcNow(), zone);
        return at.ToString(at.Date == now.Date ? "HH:mm:ss" : "yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
    }

    public string Who(long? id) => id is { } known ? known == Me ? "you" : Clean(names.Of(known)) : "?";

    /// <summary>
    /// Text from other people never reaches the terminal raw: control characters (escape sequences could rewrite
    /// the screen) become U+FFFD; line breaks are kept, indented under the line they continue.
    /// </summary>
    public static string Clean(string text)
    {
        bool plain = true;
        foreach (char c in text)
        {
            if (!char.IsControl(c)) continue;
            plain = false;
            break;
        }
        if (plain) return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (c == '\n') sb.Append("\n    ");
            else if (c == '\t') sb.Append(c);
            else if (c == '\r') continue;
            else sb.Append(char.IsControl(c) ? '\uFFFD' : c);
        }
        return sb.ToString();
    }

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";
}
