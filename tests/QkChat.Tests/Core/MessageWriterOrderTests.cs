using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core;
using QkChat.Core.Files;
using QkChat.Core.Messaging;
using QkChat.Fakes;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>
/// Issue 22 point 3: with message.writers batches stored at once, a later batch may commit first. Its messages must
/// still be answered and pushed after the earlier batch's, and readers that page by id (sync_messages) must not pass
/// the earlier batch while it is in flight (<see cref="MessageWriter.VisibleBelow"/>). The store here finishes each
/// batch when the test says, in the order the test chooses; its continuations run inline, so when the test completes a
/// batch, everything that batch can do has been done by the time the call returns (no clock, no sleep).
/// </summary>
public sealed class MessageWriterOrderTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_batch_that_commits_first_is_answered_after_the_earlier_one_and_readers_stop_below_the_earlier()
    {
        var store = new HeldStore();
        await using var rig = new Rig(store);
        var (first, second) = await rig.SendTwoBatchesAsync();
        Assert.True(first.Message.MessageId < second.Message.MessageId, "queued first, so minted first");
        Assert.True(rig.Writer.VisibleBelow() <= first.Message.MessageId, "nothing is released: readers stop below the first id");

        store.Finish(1); // the later batch commits first
        Assert.Empty(rig.Answers);
        Assert.True(rig.Writer.VisibleBelow() <= first.Message.MessageId, "the later batch is committed, not released: still hidden");

        store.Finish(0);
        Assert.Equal([first.Id, second.Id], rig.Answers);
        Assert.True(rig.Writer.VisibleBelow() > second.Id, "both released");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_send_after_an_idle_spell_holds_the_watermark_right_below_itself_not_at_the_last_release()
    {
        // On several nodes every node's reads take this node's watermark (docs/messaging.md "Several nodes"): a send after
        // an hour of quiet must not pull it back an hour, hiding every other node's messages of that hour while it is stored.
        var store = new HeldStore();
        await using var rig = new Rig(store);
        var zero = rig.Send();
        await store.Calls(1);
        store.Finish(0);
        long idle = rig.Writer.VisibleBelow(); // nothing in flight: a fresh mark, above zero
        Assert.True(idle > zero.Id);
        Assert.Equal(0, rig.Writer.ReadMark().Floor);
        var first = rig.Send();
        await store.Calls(2);
        Assert.Equal(first.Message.MessageId, rig.Writer.VisibleBelow()); // every id below the one in flight is released or unused
        // What the other nodes' readers are told (docs/cluster.md "Read marks"): the floor is the id in flight, and the
        // fresh mark is above it; idle, the floor is 0, so an idle node holds nobody back.
        var busy = rig.Writer.ReadMark();
        Assert.Equal(first.Message.MessageId, busy.Floor);
        Assert.True(busy.Mark > first.Message.MessageId);
        store.Finish(1);
        Assert.True(rig.Writer.VisibleBelow() > first.Message.MessageId);
        var idleAgain = rig.Writer.ReadMark();
        Assert.Equal(0, idleAgain.Floor);
        Assert.True(idleAgain.Mark > busy.Mark, "a fresh mark each time");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failed_earlier_batch_is_answered_first_and_lets_readers_pass()
    {
        var store = new HeldStore();
        await using var rig = new Rig(store);
        var (first, second) = await rig.SendTwoBatchesAsync();

        store.Finish(1);
        Assert.Empty(rig.Answers);
        store.Fail(0, new BackendUnavailableException("MariaDB: down"));
        Assert.Equal([-first.Id, second.Id], rig.Answers); // failed (negative) first, then stored
        Assert.True(rig.Writer.VisibleBelow() > second.Id);
        Assert.Equal(1, rig.Writer.Failed);
        Assert.Equal(1, rig.Writer.Written);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_release_that_throws_still_answers_its_batch_frees_its_writer_and_lets_later_batches_through()
    {
        // Release must not throw, but a defect in what it calls (here the log line of a NotStored message, through a
        // logger that fails once) must not leave its senders unanswered, the later batches waiting on it and its
        // writer's slot taken: with every slot lost, the node would store no message again.
        var store = new HeldStore();
        await using var rig = new Rig(store, new FailingOnceLogger());
        var (first, second) = await rig.SendTwoBatchesAsync();

        store.Finish(1);
        store.Finish(0, StoreResult.NotStored);
        Assert.Equal([first.Id, second.Id], rig.Answers);
        Assert.True(rig.Writer.VisibleBelow() > second.Id, "both released");
        // Both writers are free: two more batches are stored at once.
        rig.Send();
        rig.Send();
        await store.Calls(4);
        store.Finish(2);
        store.Finish(3);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_retry_of_a_send_in_flight_joins_it_and_takes_no_batch_of_its_own()
    {
        var store = new HeldStore();
        await using var rig = new Rig(store);
        var first = rig.Send(clientMsgId: "k", sender: 7);
        await store.Calls(1);
        rig.Send(clientMsgId: "k", sender: 7); // the same send again while the first is being stored
        var other = rig.Send(clientMsgId: "k", sender: 8); // another sender's key is another message
        await store.Calls(2);
        Assert.Equal([other.Message.MessageId], store.Batch(1).Select(m => m.MessageId));

        store.Finish(1);
        store.Finish(0);
        Assert.Equal([first.Id, first.Id, other.Id], rig.Answers);
        Assert.Equal([StoreResult.Stored, StoreResult.Duplicate, StoreResult.Stored], rig.Results);

        // Released: a later retry is stored as a send of its own (MariaDB's unique key answers it).
        rig.Send(clientMsgId: "k", sender: 7);
        await store.Calls(3);
        store.Finish(2);
    }

    [Fact(Timeout = 60_000)]
    public async Task Two_keys_of_one_sender_with_the_same_hash_are_two_sends_and_a_retry_of_the_second_is_stored_again()
    {
        // The writer finds sends in flight by (sender, 32-bit hash of the key); HashCode's seed is per process, so the
        // colliding pair is searched for here, with the same hash of the same bytes.
        var (a, b) = CollidingKeys();
        var store = new HeldStore();
        await using var rig = new Rig(store);
        var first = rig.Send(clientMsgId: a, sender: 7);
        await store.Calls(1);
        var second = rig.Send(clientMsgId: b, sender: 7); // the same hash, another key: a send of its own
        await store.Calls(2);
        Assert.Equal([second.Message.MessageId], store.Batch(1).Select(m => m.MessageId));
        rig.Send(clientMsgId: a, sender: 7); // a's retry still joins a: b did not take a's place
        var secondAgain = rig.Send(clientMsgId: b, sender: 7); // b's retry finds a's entry: not joined, queued as a send

        store.Finish(0);
        store.Finish(1);
        await store.Calls(3);
        Assert.Equal([secondAgain.Message.MessageId], store.Batch(2).Select(m => m.MessageId));
        store.Finish(2, StoreResult.Duplicate); // MariaDB's unique key (sender, client_msg_id) finds b's row
        Assert.Equal([first.Id, first.Id, second.Id, secondAgain.Id], rig.Answers);
        Assert.Equal([StoreResult.Stored, StoreResult.Duplicate, StoreResult.Stored, StoreResult.Duplicate], rig.Results);
        Assert.Equal(1, rig.Writer.RetriesJoined);
    }

    /// <summary>Two client_msg_ids whose bytes have the same HashCode in this process (about 80,000 tries: a 32-bit birthday).</summary>
    private static (string, string) CollidingKeys()
    {
        var seen = new Dictionary<int, string>();
        for (int i = 0; i < 10_000_000; i++)
        {
            string key = "c" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var hash = new HashCode();
            hash.AddBytes(System.Text.Encoding.UTF8.GetBytes(key));
            if (!seen.TryAdd(hash.ToHashCode(), key)) return (seen[hash.ToHashCode()], key);
        }
        throw new InvalidOperationException("no two of 10,000,000 keys share a 32-bit hash");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_stop_drains_every_batch_in_flight_and_answers_them_in_order()
    {
        var store = new HeldStore();
        await using var rig = new Rig(store);
        var (first, second) = await rig.SendTwoBatchesAsync();
        var drain = rig.Writer.DrainAsync();
        Assert.Equal(EnqueueResult.Busy, rig.TrySend()); // stopping: SERVER_BUSY
        store.Finish(1);
        store.Finish(0);
        var outcome = await drain.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(2, outcome.Drained);
        Assert.Equal([first.Id, second.Id], rig.Answers);
    }

    private sealed class Rig : IAsyncDisposable
    {
        private readonly HeldStore _store;
        private readonly SearchIndexer _indexer;
        private readonly MessageIds _ids = new();
        private uint _n;

        public Rig(HeldStore store, ILogger? logger = null)
        {
            _store = store;
            var options = new MessagingOptions { Writers = 2, BatchSize = 1 };
            _indexer = new SearchIndexer(store, 1000, () => 0, NullLogger.Instance);
            Writer = new MessageWriter(store, options, _indexer, _ids, logger ?? NullLogger.Instance);
        }

        public MessageWriter Writer { get; }

        /// <summary>Message ids answered, in answer order: stored ones as they are, failed ones negated.</summary>
        public List<long> Answers { get; } = [];

        /// <summary>What each answer said, in answer order (failed ones are not in it).</summary>
        public List<StoreResult> Results { get; } = [];

        public Recorded Send(string? clientMsgId = null, uint? sender = null)
        {
            var item = new Recorded(this, ++_n, clientMsgId, sender);
            Assert.Equal(EnqueueResult.Queued, Writer.TryMintAndEnqueue(item));
            item.Id = item.Message.MessageId;
            return item;
        }

        /// <summary>Two sends, each a batch of its own (one message a batch), both being stored when this returns.</summary>
        public async Task<(Recorded First, Recorded Second)> SendTwoBatchesAsync()
        {
            var first = Send();
            await _store.Calls(1);
            var second = Send(); // a batch of its own: the first is being stored
            await _store.Calls(2);
            return (first, second);
        }

        public EnqueueResult TrySend() => Writer.TryMintAndEnqueue(new Recorded(this, ++_n));

        public async ValueTask DisposeAsync()
        {
            await Writer.DisposeAsync();
            await _indexer.DisposeAsync();
        }

        public sealed class Recorded : QueuedMessage
        {
            private readonly Rig _rig;

            public Recorded(Rig rig, uint n, string? clientMsgId = null, uint? sender = null)
            {
                _rig = rig;
                Message = new NewMessage(0, sender ?? 100_000_000 + n, 200_000_000, clientMsgId, MessageTypes.Text, "m" + n, 0);
            }

            public long Id { get; set; }

            public override void Stored(StoreOutcome outcome)
            {
                lock (_rig.Answers)
                {
                    _rig.Answers.Add(outcome.MessageId);
                    _rig.Results.Add(outcome.Result);
                }
            }

            public override void Failed(bool backendDown)
            {
                lock (_rig.Answers) _rig.Answers.Add(-Message.MessageId);
            }
        }
    }

    /// <summary>A logger whose first write throws (a broken sink); every later one is dropped.</summary>
    private sealed class FailingOnceLogger : ILogger
    {
        private int _calls;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (Interlocked.Increment(ref _calls) == 1) throw new InvalidOperationException("the log sink failed");
        }
    }

    /// <summary>Each INSERT waits for the test: <see cref="Finish"/> stores it, <see cref="Fail"/> throws.</summary>
    private sealed class HeldStore : WriteOnlyMessageStore
    {
        private readonly List<(IReadOnlyList<NewMessage> Batch, TaskCompletionSource<StoreOutcome[]> Done)> _calls = [];
        private readonly SemaphoreSlim _called = new(0);

        public async Task Calls(int count)
        {
            while (true)
            {
                lock (_calls) if (_calls.Count >= count) return;
                Assert.True(await _called.WaitAsync(TimeSpan.FromSeconds(30)), $"the writer did not start batch {count} within 30 s");
            }
        }

        public void Finish(int call, StoreResult result = StoreResult.Stored)
        {
            var (batch, done) = Take(call);
            done.SetResult(batch.Select(m => new StoreOutcome(result, m.MessageId, m.Timestamp)).ToArray());
        }

        public void Fail(int call, Exception e) => Take(call).Done.SetException(e);

        public IReadOnlyList<NewMessage> Batch(int call) => Take(call).Batch;

        private (IReadOnlyList<NewMessage> Batch, TaskCompletionSource<StoreOutcome[]> Done) Take(int call)
        {
            lock (_calls) return _calls[call];
        }

        public override Task<StoreOutcome[]> InsertBatchAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct)
        {
            // Inline continuations (no RunContinuationsAsynchronously): Finish returns after the writer has done all it can.
            var done = new TaskCompletionSource<StoreOutcome[]>();
            lock (_calls) _calls.Add((batch.ToList(), done));
            _called.Release();
            return done.Task;
        }
    }
}
