using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>
/// Issue 22 point 3, the reads other than sync_messages that return messages by id (docs/messaging.md "Order and
/// catch-up"): each is read between two out-of-order commits of one sender's messages (<see cref="OutOfOrderCommit"/>)
/// and must not show the later message while the earlier one is still being stored. A client counts what an offline
/// batch or a history page showed as seen and catches up with sync_messages above the largest id it saw: shown the
/// later message first, it would skip the earlier one for good once that reached its other devices.
/// </summary>
public sealed class CommitOrderReadTests
{
    [Fact(Timeout = 240_000)] // a login, a held lock, two waits of up to 60 s and a few round trips on a loaded 2-core box
    public async Task An_offline_batch_at_login_between_two_out_of_order_commits_holds_back_the_later_message()
    {
        await using var o = await OutOfOrderCommit.StartAsync();
        long zero = await SendOk(o.Alice, o.U, "zero"); // stored and released while u is away: the offline queue
        await o.CommitSecondAheadOfFirstAsync();

        var phone = await o.Chat.LoginAsync(o.UName);
        var batch = (await Push(phone, "offline_messages")).Data!.Value;
        long[] offline = Ids(batch.GetProperty("messages"));
        Assert.True(offline.SequenceEqual([zero]), $"the offline batch {batch} shows a message while an earlier one is still being stored");

        var (first, second) = await o.ReleaseAsync();
        Assert.True(first < second, $"first ({first}) was minted before second ({second})");
        // Both come live, in id order: the device was registered before the batch was read.
        long pushed1 = (await Push(phone, "message")).Data!.Value.GetProperty("message_id").GetInt64();
        long pushed2 = (await Push(phone, "message")).Data!.Value.GetProperty("message_id").GetInt64();
        Assert.Equal([first, second], [pushed1, pushed2]);
    }

    [Fact(Timeout = 240_000)] // a login, a held lock, two waits of up to 60 s and a few round trips on a loaded 2-core box
    public async Task A_history_page_between_two_out_of_order_commits_holds_back_the_later_message()
    {
        await using var o = await OutOfOrderCommit.StartAsync();
        var phone = await o.Chat.LoginAsync(o.UName);
        long zero = await SendOk(o.Alice, o.U, "zero");
        await o.CommitSecondAheadOfFirstAsync();

        var page = (await Ok(phone.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", o.A)))).GetProperty("messages");
        Assert.True(Ids(page).SequenceEqual([zero]), $"the history page {page} shows a message while an earlier one is still being stored");

        var (first, second) = await o.ReleaseAsync();
        page = (await Ok(phone.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", o.A)))).GetProperty("messages");
        Assert.Equal([second, first, zero], Ids(page)); // newest first
    }
}
