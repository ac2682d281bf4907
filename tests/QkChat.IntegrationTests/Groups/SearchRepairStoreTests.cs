using QkChat.Core.Groups;
using QkChat.Core.Messaging;
using QkChat.Server.Messaging;
using Xunit;
using static QkChat.IntegrationTests.Groups.GroupStoreHarness;

namespace QkChat.IntegrationTests.Groups;

/// <summary>
/// The stores' half of the search indexers' gap repair (SearchIndexer, docs/messaging.md): within an id span, exactly
/// the stored items that have no search row yet, oldest first, paged by the limit; recalled items and group system
/// entries are never returned.
/// </summary>
public sealed class SearchRepairStoreTests
{
    [Fact(Timeout = 60_000)]
    public async Task Group_entries_in_a_span_without_search_rows_are_returned_oldest_first()
    {
        await using var h = await StartAsync();
        var u = await h.UsersAsync(2);
        long group = await h.GroupAsync(u[0], u[1]); // entries 1 and 2 are system entries
        var texts = Enumerable.Range(0, 5).Select(i => h.Text(group, u[0], $"entry number {i}")).ToList();
        var outcomes = await h.Store.AppendAsync(texts, Ct);
        var entries = texts.Select((t, i) => new IndexedGroupEntry(t.MessageId, group, outcomes[i].Seq, t.Content)).ToList();
        await h.Store.IndexAsync([entries[1], entries[3]], Ct);

        long from = texts[0].MessageId - 10, to = texts[^1].MessageId;
        var missing = await h.Store.UnindexedBetweenAsync(from, to, 100, Ct);
        Assert.Equal([texts[0].MessageId, texts[2].MessageId, texts[4].MessageId], missing.Select(e => e.MessageId));
        Assert.Equal(entries[2], missing[1]);

        // Paged by the limit, and bounded by the span.
        Assert.Equal([texts[0].MessageId], (await h.Store.UnindexedBetweenAsync(from, to, 1, Ct)).Select(e => e.MessageId));
        Assert.Equal([texts[2].MessageId], (await h.Store.UnindexedBetweenAsync(texts[1].MessageId, texts[3].MessageId, 100, Ct)).Select(e => e.MessageId));
    }

    [Fact(Timeout = 60_000)]
    public async Task Messages_in_a_span_without_search_rows_are_returned_oldest_first_and_recalled_ones_never()
    {
        await using var h = await StartAsync();
        var u = await h.UsersAsync(2);
        var store = new MySqlMessageStore(h.Db.DataSource);
        var messages = Enumerable.Range(0, 5)
            .Select(i => new NewMessage(h.NextMessageId(), u[0], u[1], null, "text", $"message number {i}", Now)).ToList();
        await store.InsertBatchAsync(messages, Ct);
        await store.IndexAsync([messages[1]], Ct);
        Assert.True(await store.RecallAsync(u[0], messages[3].MessageId, Now, Ct));

        var missing = await store.UnindexedBetweenAsync(messages[0].MessageId, messages[^1].MessageId, 100, Ct);
        Assert.Equal([messages[0].MessageId, messages[2].MessageId, messages[4].MessageId], missing.Select(m => m.MessageId));
        // NewMessage is a pooled class since the send path keeps content as UTF-8 bytes: compared field by field.
        Assert.Equal((messages[2].SenderId, messages[2].ReceiverId, messages[2].Type, messages[2].Timestamp),
            (missing[1].SenderId, missing[1].ReceiverId, missing[1].Type, missing[1].Timestamp));
        Assert.Equal(messages[2].Content.ToArray(), missing[1].Content.ToArray());
    }
}
