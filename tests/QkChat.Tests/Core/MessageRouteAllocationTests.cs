using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Core.Friends;
using QkChat.Core.Messaging;
using QkChat.Fakes;
using QkChat.Core.Presence;
using QkChat.Core.Routing;
using QkChat.Protocol;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>
/// Issue 22's allocation budget for a routed one-to-one message: send_message from the sender's frame through the
/// dispatcher, the field rules, the cached friendship and block checks, the write-behind queue and its writer thread,
/// the `sent` answer and the `message` push into the receiver's send queue. Only MariaDB is replaced (a store that
/// answers at once without allocating). Counted bytes of the whole process over many messages, not time, like
/// bench/QkChat.Benchmarks' MessageRouteBenchmark (BenchmarkDotNet's MemoryDiagnoser counts the same way): alone in
/// its collection, nothing else runs meanwhile.
/// </summary>
[Collection(MeasuredAlone.Name)]
public sealed class MessageRouteAllocationTests(ITestOutputHelper output)
{
    /// <summary>Bytes per routed message the path may allocate (bench/RESULTS.md, "Allocation per routed message").</summary>
    private const double BudgetBytes = 100;

    private const uint Alice = 111_111_111, Bob = 222_222_222;

    [Fact(Timeout = 600_000)] // 15,000 routed messages, each a hop to the writer thread and back: a few hundred a second on a 2-core box at load 50
    public async Task A_routed_message_allocates_under_the_budget()
    {
        double perMessage = await GroupFanOutAllocationTests.OnOwnThread(() =>
        {
            using var rig = new RouteRig();
            // Pools, caches, the thread's JSON writer, tiered JIT. The message pool fills while the search indexer holds
            // messages between its batches (100 ms or more): 10,000 sends and the indexer's drain let it reach its size.
            for (int i = 0; i < 10_000; i++) rig.RouteOne();
            rig.WaitForIndexer();
            // Bytes, not time: 5,000 messages make a stray kilobyte elsewhere in the process a fifth of a byte each.
            const int messages = 5_000;
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < messages; i++) rig.RouteOne();
            return (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)messages;
        });
        output.WriteLine($"{perMessage:F1} B per routed message");
        Assert.True(perMessage <= BudgetBytes, $"a routed message allocated {perMessage:F1} B; the budget is {BudgetBytes} B");
    }

    private sealed class RouteRig : IDisposable
    {
        private readonly InMemoryConnection _sender, _receiver;
        private readonly MessagingService _messaging;
        private readonly byte[] _frame = Framing.Encode(
            """{"action":"send_message","request_id":"42","receiver_id":222222222,"content":"hello, how are you today?","type":"text","client_msg_id":"c-0001"}"""u8);

        public RouteRig()
        {
            var router = new ActionRouter();
            var dispatcher = new Dispatcher(new ChatOptions { RequestsPerSecond = int.MaxValue / 2, RequestBurst = int.MaxValue / 2 },
                router, NullLogger.Instance);
            var live = new LiveSessions();
            var friends = new FriendSetCache(new TwoFriends(Alice, Bob));
            var blocks = new BlockSetCache(new TwoFriends(Alice, Bob));
            _messaging = new MessagingService(new MessagingOptions(), new AnsweringMessageStore(), friends, blocks, new LocalDelivery(live), new PresenceTracker(),
                NullLogger.Instance);
            _messaging.Register(router, dispatcher);
            _sender = SignedIn(dispatcher, live, Alice);
            _receiver = SignedIn(dispatcher, live, Bob);
            friends.FriendsOfAsync(Alice, CancellationToken.None).AsTask().Wait();
            blocks.IsBlockedAsync(Alice, Bob, CancellationToken.None).AsTask().Wait();
        }

        private static InMemoryConnection SignedIn(Dispatcher dispatcher, LiveSessions live, uint user)
        {
            var connection = new InMemoryConnection(dispatcher);
            var session = (Session)connection.Connection.State!;
            session.LoggedIn = true;
            session.UserId = user;
            session.ClientId = "phone";
            live.Register(user, "phone", connection.Connection);
            return connection;
        }

        /// <summary>One send until its `sent` answer and its push are queued (deadline: a stuck writer fails the test).</summary>
        public void RouteOne()
        {
            _sender.Receive(_frame);
            int responses = 0, pushes = 0;
            long deadline = Environment.TickCount64 + 30_000;
            while (responses == 0 || pushes == 0)
            {
                _sender.RunPending();
                _receiver.RunPending();
                responses += _sender.DiscardOutput();
                pushes += _receiver.DiscardOutput();
                if (Environment.TickCount64 > deadline) throw new TimeoutException("no answer or push within 30 s");
                Thread.Yield(); // the writer thread needs a core
            }
        }

        /// <summary>Until the search indexer has let go of every message it was given.</summary>
        public void WaitForIndexer()
        {
            if (!_messaging.Indexer.WhenWrittenAsync().Wait(TimeSpan.FromSeconds(60))) throw new TimeoutException("the search indexer did not catch up in 60 s");
        }

        public void Dispose()
        {
            _sender.Dispose();
            _receiver.Dispose();
            _messaging.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
