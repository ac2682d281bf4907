using QkChat.Core.Groups;
using QkChat.IntegrationTests.Chat;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Groups.GroupKit;

namespace QkChat.IntegrationTests.Groups;

/// <summary>The rules and error codes of protocol.md §9 through the real server (docs/protocol.md "Group chat").</summary>
public sealed class GroupRuleTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_non_member_gets_NOT_FOUND_for_every_group_action_and_so_does_an_unknown_group()
    {
        await using var h = await ChatHarness.StartAsync();
        var owner = await h.MemberAsync();
        var member = await h.MemberAsync();
        var stranger = await h.MemberAsync();
        await h.BefriendAllAsync(owner, member, stranger);
        await h.BefriendAllAsync(stranger, member);
        long group = await CreateAsync(owner, "climbing", member);
        long seq = await SendOk(owner.Device, group, "hello");

        foreach (long id in new[] { group, group + 1000 })
        {
            var c = stranger.Device;
            Assert.Equal(ErrorCodes.NotFound, await Code(Act(c, "get_group_info", id)));
            Assert.Equal(ErrorCodes.NotFound, await Code(Act(c, "get_group_members", id)));
            Assert.Equal(ErrorCodes.NotFound, await Code(Add(c, id, member.Id)));
            Assert.Equal(ErrorCodes.NotFound, await Code(Remove(c, id, member.Id)));
            Assert.Equal(ErrorCodes.NotFound, await Code(Act(c, "leave_group", id)));
            Assert.Equal(ErrorCodes.NotFound, await Code(SetRole(c, id, member.Id, "admin")));
            Assert.Equal(ErrorCodes.NotFound, await Code(Act(c, "transfer_group_owner", id, w => w.WriteNumber("user_id", member.Id))));
            Assert.Equal(ErrorCodes.NotFound, await Code(Act(c, "rename_group", id, w => w.WriteString("name", "mine now"))));
            Assert.Equal(ErrorCodes.NotFound, await Code(Act(c, "dissolve_group", id)));
            Assert.Equal(ErrorCodes.NotFound, await Code(Send(c, id, "let me in")));
            Assert.Equal(ErrorCodes.NotFound, await Code(History(c, id)));
            Assert.Equal(ErrorCodes.NotFound, await Code(Sync(c, id, 0)));
            Assert.Equal(ErrorCodes.NotFound, await Code(MarkRead(c, id, seq)));
            Assert.Equal(ErrorCodes.NotFound, await Code(Act(c, "recall_group_message", id, w => w.WriteNumber("seq", seq))));
        }
        Assert.Null(await MyGroupAsync(stranger.Device, group));
        // Nothing the stranger tried reached the timeline.
        Assert.Equal(new long[] { seq, 2, 1 }, Seqs(await Ok(History(owner.Device, group))));
    }

    [Fact(Timeout = 60_000)]
    public async Task Roles_decide_who_may_do_what_and_admins_cannot_remove_admins()
    {
        await using var h = await ChatHarness.StartAsync();
        var owner = await h.MemberAsync();
        var admin = await h.MemberAsync();
        var admin2 = await h.MemberAsync();
        var plain = await h.MemberAsync();
        var other = await h.MemberAsync();
        await h.BefriendAllAsync(owner, admin, admin2, plain, other);
        long group = await CreateAsync(owner, "roles", admin, admin2, plain, other);

        // A plain member may do none of the owner's or admins' actions.
        Assert.Equal(ErrorCodes.Forbidden, await Code(SetRole(plain.Device, group, other.Id, "admin")));
        Assert.Equal(ErrorCodes.Forbidden, await Code(Remove(plain.Device, group, other.Id)));
        Assert.Equal(ErrorCodes.Forbidden, await Code(Act(plain.Device, "rename_group", group, w => w.WriteString("name", "x"))));
        Assert.Equal(ErrorCodes.Forbidden, await Code(Act(plain.Device, "dissolve_group", group)));
        Assert.Equal(ErrorCodes.Forbidden, await Code(Act(plain.Device, "transfer_group_owner", group, w => w.WriteNumber("user_id", plain.Id))));
        Assert.Equal(ErrorCodes.Forbidden, await Code(Add(plain.Device, group, owner.Id)));

        await Ok(SetRole(owner.Device, group, admin.Id, "admin"));
        await Ok(SetRole(owner.Device, group, admin2.Id, "admin"));
        Assert.Equal(ErrorCodes.Forbidden, await Code(Remove(admin.Device, group, admin2.Id)));
        Assert.Equal(ErrorCodes.Forbidden, await Code(Remove(admin.Device, group, owner.Id)));
        Assert.Equal(ErrorCodes.Forbidden, await Code(SetRole(admin.Device, group, plain.Id, "admin")));
        Assert.Equal(ErrorCodes.Forbidden, await Code(SetRole(owner.Device, group, owner.Id, "member")));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Remove(owner.Device, group, owner.Id)));
        await Ok(Act(admin.Device, "rename_group", group, w => w.WriteString("name", "renamed by an admin")));
        await Ok(Remove(admin.Device, group, other.Id));
        await Ok(Remove(owner.Device, group, admin2.Id));

        // The owner leaves only after handing over; the old owner is then an admin.
        Assert.Equal(ErrorCodes.Forbidden, await Code(Act(owner.Device, "leave_group", group)));
        await Ok(Act(owner.Device, "transfer_group_owner", group, w => w.WriteNumber("user_id", plain.Id)));
        var roles = (await Ok(Act(plain.Device, "get_group_members", group))).GetProperty("members").EnumerateArray()
            .ToDictionary(m => m.GetProperty("user_id").GetUInt32(), m => m.GetProperty("role").GetString());
        Assert.Equal(new Dictionary<uint, string?> { [owner.Id] = "admin", [admin.Id] = "admin", [plain.Id] = "owner" }, roles);
        await Ok(Act(owner.Device, "leave_group", group));
        var info = await Ok(Act(plain.Device, "get_group_info", group));
        Assert.Equal(plain.Id, info.GetProperty("owner_id").GetUInt32());
        Assert.Equal(2, info.GetProperty("member_count").GetInt32());
        Assert.Equal("renamed by an admin", info.GetProperty("name").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Members_must_be_friends_of_whoever_adds_them_and_the_cap_adds_nobody_past_it()
    {
        await using var h = await ChatHarness.StartAsync(groups: new GroupOptions { MaxMembers = 3 });
        var owner = await h.MemberAsync();
        var a = await h.MemberAsync();
        var b = await h.MemberAsync();
        var c = await h.MemberAsync();
        var stranger = await h.MemberAsync();
        await h.BefriendAllAsync(owner, a, b, c);

        var notFriends = await Create(owner.Device, "x", [a.Id, stranger.Id]);
        Assert.Equal(ErrorCodes.NotFriends, notFriends.Code);
        Assert.Contains(stranger.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), notFriends.Message);
        Assert.Equal(ErrorCodes.Forbidden, await Code(Create(owner.Device, "x", [a.Id, b.Id, c.Id])));

        long group = await CreateAsync(owner, "three", a);
        var stray = await Add(owner.Device, group, stranger.Id);
        Assert.Equal(ErrorCodes.NotFriends, stray.Code);
        var added = await Ok(Add(owner.Device, group, a.Id, b.Id));
        Assert.Equal(new[] { b.Id }, added.GetProperty("added").EnumerateArray().Select(e => e.GetUInt32()).ToArray());
        Assert.Equal(new[] { a.Id }, added.GetProperty("already").EnumerateArray().Select(e => e.GetUInt32()).ToArray());
        // Full at 3: nobody is added, nothing is written.
        long maxSeq = (await Ok(Act(owner.Device, "get_group_info", group))).GetProperty("max_seq").GetInt64();
        Assert.Equal(ErrorCodes.Forbidden, await Code(Add(owner.Device, group, c.Id)));
        var info = await Ok(Act(owner.Device, "get_group_info", group));
        Assert.Equal((3, maxSeq), (info.GetProperty("member_count").GetInt32(), info.GetProperty("max_seq").GetInt64()));
        Assert.Equal(ErrorCodes.NotFound, await Code(Act(c.Device, "get_group_info", group)));
    }

    [Fact(Timeout = 60_000)]
    public async Task Field_rules_come_first_and_name_the_field()
    {
        await using var h = await ChatHarness.StartAsync();
        var owner = await h.MemberAsync();
        long group = await CreateAsync(owner, "fields");
        var c = owner.Device;
        async Task Invalid(Task<Envelope> request, string field)
        {
            var e = await request;
            Assert.Equal(ErrorCodes.InvalidArgument, e.Code);
            Assert.StartsWith(field + ":", e.Message);
        }
        await Invalid(Create(c, "", null), "name");
        await Invalid(Create(c, new string('x', 65), null), "name");
        await Invalid(Create(c, "   ", null), "name");
        await Invalid(Act(c, "get_group_info", 0), "group_id");
        await Invalid(Add(c, group), "user_ids");
        await Invalid(Add(c, group, [.. Enumerable.Range(0, 101).Select(i => (uint)(100_000_000 + i))]), "user_ids");
        await Invalid(SetRole(c, group, owner.Id, "owner"), "role");
        await Invalid(Send(c, group, ""), "content");
        await Invalid(Send(c, group, new string('x', 4001)), "content");
        await Invalid(Send(c, group, "x", new string('k', 65)), "client_msg_id");
        await Invalid(History(c, group, limit: 101), "limit");
        await Invalid(MarkRead(c, group, -1), "up_to_seq");
        await Invalid(Act(c, "recall_group_message", group, w => w.WriteNumber("seq", 0)), "seq");
        // 64 characters (an emoji is one) are a name.
        await Ok(Act(c, "rename_group", group, w => w.WriteString("name", string.Concat(Enumerable.Repeat("😀", 64)))));
    }

    // What each group field is: s string, i integer, a array of integers (as RequestFieldTests for the other actions).
    private static readonly (string Action, string Field, char Kind)[] Fields =
    [
        ("create_group", "name", 's'), ("create_group", "member_ids", 'a'),
        ("get_group_info", "group_id", 'i'),
        ("get_group_members", "group_id", 'i'), ("get_group_members", "limit", 'i'), ("get_group_members", "after_user_id", 'i'),
        ("add_group_members", "group_id", 'i'), ("add_group_members", "user_ids", 'a'),
        ("remove_group_member", "user_id", 'i'), ("set_group_role", "role", 's'), ("transfer_group_owner", "user_id", 'i'),
        ("rename_group", "name", 's'), ("leave_group", "group_id", 'i'), ("dissolve_group", "group_id", 'i'),
        ("send_group_message", "content", 's'), ("send_group_message", "type", 's'), ("send_group_message", "client_msg_id", 's'),
        ("get_group_history", "before_seq", 'i'), ("sync_group_messages", "after_seq", 'i'),
        ("mark_group_read", "up_to_seq", 'i'), ("recall_group_message", "seq", 'i'),
    ];

    [Fact(Timeout = 120_000)] // ~130 requests on a loaded 2-core box, with a MariaDB-backed harness to start
    public async Task Every_ill_typed_group_field_is_INVALID_ARGUMENT_naming_it()
    {
        await using var h = await ChatHarness.StartAsync();
        var owner = await h.MemberAsync();
        var wrong = new List<string>();
        foreach (var (action, field, kind) in Fields)
        {
            string[] values = kind switch
            {
                's' => ["true", "0", "[]", "{}", "null"],
                'i' => ["true", "\"7\"", "1.5", "[]", "null"],
                _ => ["true", "0", "\"1\"", "null", "[1.5]", "[\"1\"]"],
            };
            foreach (string value in values)
            {
                var answer = await owner.Device.RequestAsync(action, w =>
                {
                    w.WritePropertyName(field);
                    w.WriteRawValue(value);
                });
                if (answer.Code != ErrorCodes.InvalidArgument || answer.Message?.StartsWith(field + ":", StringComparison.Ordinal) != true)
                    wrong.Add($"{action} {field}={value}: {answer.Code} {answer.Message}");
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact(Timeout = 60_000)]
    public async Task Dissolving_tells_every_member_and_leaves_the_group_NOT_FOUND_for_all()
    {
        await using var h = await ChatHarness.StartAsync();
        var owner = await h.MemberAsync(devices: 2);
        var member = await h.MemberAsync();
        await h.BefriendAllAsync(owner, member);
        long group = await CreateAsync(owner, "short lived", member);
        await SendOk(member.Device, group, "bye?");

        await Ok(Act(owner.Device, "dissolve_group", group));
        foreach (var device in new[] { owner.Devices[0], owner.Devices[1], member.Device })
        {
            var e = (await device.WaitForAsync(x => x.Push && x.Action == "group_event" && x.Data!.Value.GetProperty("event").GetString() == "dissolved",
                Patience)).Data!.Value;
            Assert.Equal(group, e.GetProperty("group_id").GetInt64());
            Assert.Equal(owner.Id, e.GetProperty("actor_id").GetUInt32());
            Assert.False(e.TryGetProperty("seq", out _));
        }
        foreach (var c in new[] { owner.Device, member.Device })
        {
            Assert.Equal(ErrorCodes.NotFound, await Code(Act(c, "get_group_info", group)));
            Assert.Equal(ErrorCodes.NotFound, await Code(Send(c, group, "anyone?")));
            Assert.Null(await MyGroupAsync(c, group));
        }

        // The owner leaving as the last member dissolves too.
        long alone = await CreateAsync(owner, "alone");
        await Ok(Act(owner.Device, "leave_group", alone));
        Assert.Equal(ErrorCodes.NotFound, await Code(Act(owner.Device, "get_group_info", alone)));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_retried_send_with_the_same_client_msg_id_stores_and_pushes_one_entry()
    {
        await using var h = await ChatHarness.StartAsync();
        var a = await h.MemberAsync();
        var b = await h.MemberAsync();
        await h.BefriendAllAsync(a, b);
        long group = await CreateAsync(a, "retry", b);
        var first = await Ok(Send(a.Device, group, "once", "k-1"));
        var again = await Send(a.Device, group, "once", "k-1");
        Assert.Equal(ErrorCodes.Ok, again.Code);
        Assert.Equal(first.GetProperty("seq").GetInt64(), again.Data!.Value.GetProperty("seq").GetInt64());
        Assert.Equal(first.GetProperty("message_id").GetInt64(), again.Data!.Value.GetProperty("message_id").GetInt64());
        // Compared byte for byte: another case is another message.
        long other = await SendOk(a.Device, group, "once", "K-1");
        Assert.Equal(first.GetProperty("seq").GetInt64() + 1, other);

        Assert.Equal(first.GetProperty("seq").GetInt64(), (await Push(b.Device, "group_message")).Data!.Value.GetProperty("seq").GetInt64());
        Assert.Equal(other, (await Push(b.Device, "group_message")).Data!.Value.GetProperty("seq").GetInt64());
        await NoPush(b.Device, "group_message");
    }
}
