using QkChat.IntegrationTests.Infrastructure;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>
/// Issue 22 point 3: a client retries a send (same client_msg_id) while its first send is still being stored, and the
/// retry would land in another writer's batch. Exactly one message may be stored, both sends answered with its id,
/// neither with an error, and the retry must not hold a writer of its own waiting on the first one's row lock (with
/// message.writers batches at once, a few such retries would stall every sender of the node).
/// </summary>
public sealed class InFlightRetryTests
{
    [Fact(Timeout = 240_000)] // a held lock, a wait of up to 60 s and a few round trips on a loaded 2-core box
    public async Task A_retry_while_the_first_send_is_being_stored_gets_its_id_and_stalls_no_writer()
    {
        await using var o = await OutOfOrderCommit.StartAsync();
        await o.HoldAsync();
        await o.SendHeldFirstAsync(); // one of the two writers waits for the test's lock
        var retry = o.SendAsync("first", OutOfOrderCommit.HeldKey);
        // Queued after the retry (one connection's sends are queued in request order): the other writer must store it.
        var later = o.SendAsync("later", "zz-later");
        await Wait.UntilAsync(() => o.CountAsync($"SELECT COUNT(*) FROM messages WHERE sender_id = {o.A} AND client_msg_id = 'zz-later'"),
            "a later message to be stored while the first send (and its retry) wait for the held key", TimeSpan.FromSeconds(60));

        await o.ReleaseHoldAsync();
        var firstAnswer = await o.First;
        var retryAnswer = await retry;
        long first = (await Ok(o.First)).GetProperty("message_id").GetInt64();
        long retried = (await Ok(retry)).GetProperty("message_id").GetInt64();
        await Ok(later);
        Assert.Equal(first, retried);
        Assert.Equal("sent", firstAnswer.Message);
        Assert.Equal("already sent (same client_msg_id)", retryAnswer.Message);
        Assert.True(await o.CountAsync($"SELECT COUNT(*) = 1 FROM messages WHERE sender_id = {o.A} AND client_msg_id = '{OutOfOrderCommit.HeldKey}'"),
            "exactly one row for the client_msg_id");
    }
}
