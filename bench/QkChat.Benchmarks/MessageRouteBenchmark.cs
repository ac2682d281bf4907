using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Core.Friends;
using QkChat.Core.Messaging;
using QkChat.Fakes;
using QkChat.Core.Presence;
using QkChat.Core.Routing;
using QkChat.Protocol;
using QkChat.Transport;

namespace QkChat.Benchmarks;

/// <summary>
/// One send_message routed through the server's own path, in memory: frame parse, field rules, the cached
/// friendship check, the write-behind queue and its writer thread, the `sent` response to the sender and the
/// `message` push to the receiver. The store is an in-memory stand-in, so the database driver is excluded
/// (issue 5's allocation budget: under 100 B per routed message). Both connections live on this thread's reactors.
/// </summary>
[MemoryDiagnoser]
public class MessageRouteBenchmark
{
    private const uint Alice = 111_111_111, Bob = 222_222_222;
    private InMemoryConnection _sender = null!, _receiver = null!;
    private MessagingService _messaging = null!;
    private byte[] _frame = [];

    [GlobalSetup]
    public void Setup()
    {
        var router = new ActionRouter();
        var dispatcher = new Dispatcher(new ChatOptions { RequestsPerSecond = int.MaxValue / 2, RequestBurst = int.MaxValue / 2 },
            router, NullLogger.Instance);
        var live = new LiveSessions();
        var friends = new FriendSetCache(new TwoFriends(Alice, Bob));
        var blocks = new BlockSetCache(new TwoFriends(Alice, Bob));
        _messaging = new MessagingService(new MessagingOptions(), new AnsweringMessageStore(), friends, blocks, new LocalDelivery(live), new PresenceTracker(), NullLogger.Instance);
        _messaging.Register(router, dispatcher);
        _sender = SignedIn(dispatcher, live, Alice);
        _receiver = SignedIn(dispatcher, live, Bob);
        friends.FriendsOfAsync(Alice, CancellationToken.None).AsTask().Wait();
        blocks.IsBlockedAsync(Alice, Bob, CancellationToken.None).AsTask().Wait();
        _frame = Framing.Encode("""{"action":"send_message","request_id":"42","receiver_id":222222222,"content":"hello, how are you today?","type":"text","client_msg_id":"c-0001"}"""u8);
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

    [GlobalCleanup]
    public void Cleanup()
    {
        _sender.Dispose();
        _receiver.Dispose();
        _messaging.DisposeAsync().AsTask().Wait();
    }

    [Benchmark(Description = "send_message: sent response + message push")]
    public int RouteOneMessage()
    {
        Receive();
        return AwaitAnswerAndPush();
    }

    /// <summary>The sender's frame through the dispatcher into the send path (AllocationSources measures the halves).</summary>
    public void Receive() => _sender.Receive(_frame);

    /// <summary>Runs both connections' inboxes until the `sent` answer and the `message` push are queued.</summary>
    public int AwaitAnswerAndPush()
    {
        int responses = 0, pushes = 0;
        while (true)
        {
            _sender.RunPending();
            _receiver.RunPending();
            responses += _sender.DiscardOutput();
            pushes += _receiver.DiscardOutput();
            if (responses > 0 && pushes > 0) return responses + pushes;
            Thread.SpinWait(20);
        }
    }
}
