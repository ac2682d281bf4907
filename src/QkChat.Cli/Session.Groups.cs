using System.Globalization;
using System.Text.Json;
using QkChat.Client;
using QkChat.Protocol;

namespace QkChat.Cli;

/// <summary>The group chat commands (docs/cli.md): /groups, /gcreate, /gadd, /gleave, /gmembers, /gsend, /ghistory.</summary>
internal sealed partial class Session
{
    private async Task GroupsAsync(CancellationToken ct)
    {
        if (await CallAsync(c => c.GetGroupsAsync(ct), ct) is not { } d) return;
        var groups = d.Items("groups").ToList();
        if (groups.Count == 0) _out.Line("no groups yet: /gcreate <name> [user ids]");
        foreach (JsonElement g in groups)
        {
            string unread = g.Long("unread_count") is { } n and > 0 ? $"  {n} unread" : "";
            _out.Line($"  {g.Long("group_id")}  {PushFormatter.Clean(g.Str("name") ?? "?")}  ({g.Str("role")}, {g.Long("member_count")} members){unread}");
        }
    }

    private async Task GroupCreateAsync(string name, string? userIds, CancellationToken ct)
    {
        if (ParseIds(userIds ?? "") is not { } ids) return;
        if (await CallAsync(c => c.CreateGroupAsync(name, ids.Length == 0 ? null : ids, ct), ct) is not { } d) return;
        _out.Line($"group {d.Long("group_id")} \"{PushFormatter.Clean(name)}\" created; /gsend {d.Long("group_id")} <text> writes to it");
    }

    private async Task GroupAddAsync(long group, string userIds, CancellationToken ct)
    {
        if (ParseIds(userIds) is not { Length: > 0 } ids)
        {
            if (userIds.Trim().Length == 0) Fail("name at least one user id");
            return;
        }
        if (await CallAsync(c => c.AddGroupMembersAsync(group, ids, ct), ct) is not { } d) return;
        string added = string.Join(", ", d.Items("added").Select(u => _format.Who(u.GetInt64())));
        string already = string.Join(", ", d.Items("already").Select(u => _format.Who(u.GetInt64())));
        _out.Line((added.Length > 0 ? $"added {added}" : "nobody new") + (already.Length > 0 ? $"; already members: {already}" : ""));
    }

    private async Task GroupLeaveAsync(long group, CancellationToken ct)
    {
        if (await CallAsync(c => c.LeaveGroupAsync(group, ct), ct) is null) return;
        _out.Line($"you left group {group}");
    }

    private async Task GroupMembersAsync(long group, CancellationToken ct)
    {
        if (await CallAsync(c => c.GetGroupMembersAsync(group, limit: 500, ct: ct), ct) is not { } d) return;
        foreach (JsonElement m in d.Items("members"))
        {
            _names.Remember(m.Long("user_id"), m.Str("username"));
            _out.Line($"  {m.Long("user_id")}  {_format.Who(m.Long("user_id"))}  {m.Str("role")}  {m.Str("status")}");
        }
        if (d.Bool("has_more")) _out.Line("  (more: only the first 500 are shown)");
    }

    private async Task GroupSendAsync(long group, string text, CancellationToken ct)
    {
        string clientMsgId = "cli-" + Guid.NewGuid().ToString("N");
        if (await CallAsync(c => c.SendGroupMessageAsync(group, text, clientMsgId, "text", ct), ct) is not { } d) return;
        _out.Line($"[{_format.Time(d.Long("timestamp") ?? 0)}] [group {group} #{d.Long("seq")}] me: {PushFormatter.Clean(text)}");
    }

    /// <summary>The newest entries, oldest first, then marks the group read up to the newest shown.</summary>
    private async Task GroupHistoryAsync(long group, int n, CancellationToken ct)
    {
        if (await CallAsync(c => c.GetGroupHistoryAsync(group, n, ct: ct), ct) is not { } d) return;
        var entries = d.Items("messages").ToList();
        if (entries.SelectMany(e => (IEnumerable<long?>)[e.Long("sender_id"), .. UserIds(e)]).OfType<long>().Any(id => id != _format.Me && !_names.Knows(id)))
        {
            try
            {
                await LearnMemberNamesAsync(await EnsureConnectedAsync(ct).ConfigureAwait(false), group, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ChatConnectionClosedException or TimeoutException)
            {
                // Then the entries show ids instead of names.
            }
        }
        if (entries.Count == 0) _out.Line("no entries yet");
        for (int i = entries.Count - 1; i >= 0; i--) _out.Line(_format.GroupEntry(entries[i]));
        if (entries.Count > 0 && entries[0].Long("seq") is { } newest) await CallAsync(c => c.MarkGroupReadAsync(group, newest, ct), ct);
    }

    /// <summary>
    /// Remembers the names of the group's members (the first 500), who need not be this user's friends: group entries
    /// and pushes carry user ids only. Nothing when the answer is a refusal (no longer a member).
    /// </summary>
    private async Task LearnMemberNamesAsync(ChatClient client, long group, CancellationToken ct)
    {
        Envelope answer = await client.GetGroupMembersAsync(group, limit: 500, ct: ct).ConfigureAwait(false);
        foreach (JsonElement m in (answer.Data ?? Json.EmptyObject).Items("members"))
            _names.Remember(m.Long("user_id"), m.Str("username"));
    }

    /// <summary>The `user_ids` of a group entry or event (ids of a system entry's subjects).</summary>
    private static IEnumerable<long?> UserIds(JsonElement e) =>
        e.Items("user_ids").Select(u => u.ValueKind == JsonValueKind.Number ? u.GetInt64() : (long?)null);

    /// <summary>User ids separated by spaces or commas; null (and a message) when one is not a number.</summary>
    private long[]? ParseIds(string text)
    {
        var ids = new List<long>();
        foreach (string word in text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries))
        {
            if (!long.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out long id))
            {
                Fail($"'{word}' is not a user id (9 digits)");
                return null;
            }
            ids.Add(id);
        }
        return [.. ids];
    }
}
