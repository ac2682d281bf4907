using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Messaging;
using QkChat.IntegrationTests.Chat;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Storage;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Groups.GroupKit;

namespace QkChat.IntegrationTests.Groups;

/// <summary>Group entries and one-to-one messages share one id minter, which starts above the stored group entries too.</summary>
public sealed class GroupIdentityTests
{
    [Fact(Timeout = 60_000)]
    public async Task Ids_start_above_a_stored_group_entry_from_a_clock_a_day_ahead_for_group_and_direct_sends()
    {
        await using var db = await TempDatabase.CreateAsync();
        await new Migrator(db.DataSource, Migration.Embedded(), NullLogger.Instance).MigrateAsync(TestContext.Current.CancellationToken);
        // An earlier run's clock was a day ahead; only a group entry holds its id (no one-to-one message is stored).
        long ahead = (DateTimeOffset.UtcNow.AddDays(1) - MessageIds.Epoch).Ticks / TimeSpan.TicksPerMillisecond << 12;
        await db.ExecuteAsync("INSERT INTO chat_groups (group_id, name, owner_id, created_at, max_seq, member_count) VALUES (1, 'old', 100000001, 0, 1, 0)");
        await db.ExecuteAsync($"INSERT INTO chat_group_entries (group_id, seq, message_id, sender_id, type, content, created_at) VALUES (1, 1, {ahead}, 100000001, 'text', 'x', 0)");

        await using var h = await ChatHarness.StartAsync(chatDb: db.DataSource);
        var a = await h.MemberAsync();
        var b = await h.MemberAsync();
        await h.BefriendAllAsync(a, b);
        long group = await CreateAsync(a, "after the restart", b);
        var sent = await Ok(Send(a.Device, group, "first"));
        long groupId = sent.GetProperty("message_id").GetInt64();
        long directId = await ChatHarness.SendOk(a.Device, b.Id, "direct");
        Assert.True(groupId > ahead, $"group entry {groupId} is not above the stored {ahead}");
        Assert.True(directId > groupId, $"message {directId} is not above the group entry {groupId} minted before it");
    }
}
