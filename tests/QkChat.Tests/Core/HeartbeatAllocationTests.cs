using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Protocol;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>
/// The hot path's allocation budget: parsing a heartbeat frame, dispatching it and writing its response allocates
/// nothing once pools are warm. Counted bytes, not time, so the test is exact (bench/ has the timings).
/// </summary>
[Collection(MeasuredAlone.Name)]
public sealed class HeartbeatAllocationTests
{
    [Fact]
    public void A_heartbeat_round_through_the_dispatcher_allocates_zero_bytes()
    {
        var dispatcher = new Dispatcher(new ChatOptions { RequestsPerSecond = 1_000_000, RequestBurst = 1_000_000 },
            new ActionRouter(), NullLogger.Instance);
        using var memory = new InMemoryConnection(dispatcher);
        byte[] frame = Framing.Encode("""{"action":"heartbeat","request_id":"42"}"""u8);
        byte[] eight = [.. frame, .. frame, .. frame, .. frame, .. frame, .. frame, .. frame, .. frame];

        for (int i = 0; i < 1000; i++) // warm pools, the thread's JSON writer and tiered JIT
        {
            memory.Receive(eight);
            memory.DiscardOutput();
        }
        long consumed = 0, responses = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            consumed += memory.Receive(eight);
            responses += memory.DiscardOutput();
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Checked after the measured loop: assertion helpers allocate themselves.
        Assert.Equal(10_000L * eight.Length, consumed);
        Assert.Equal(80_000, responses);
        Assert.Equal(0, allocated);
        // With the request metrics on (the default): every heartbeat was counted and timed on the way.
        Assert.True(new ChatOptions().MetricsEnabled);
        Assert.Equal(88_000, dispatcher.Requests.Counts().Single(c => c.Action == "heartbeat" && c.Code == ErrorCodes.Ok).Count);
    }
}
