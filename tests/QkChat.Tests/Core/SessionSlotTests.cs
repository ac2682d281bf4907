using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>A feature's own per-device state in the session (src/QkChat.Core/Dispatch/SessionSlot.cs).</summary>
public sealed class SessionSlotTests
{
    private sealed class Counter
    {
        public int N;
    }

    [Fact]
    public void Each_session_has_its_own_state_in_each_slot()
    {
        var dispatcher = new Dispatcher(new ChatOptions(), new ActionRouter(), NullLogger.Instance);
        var counters = dispatcher.AddSlot<Counter>();
        var names = dispatcher.AddSlot<string>();
        using var a = new InMemoryConnection(dispatcher);
        using var b = new InMemoryConnection(dispatcher);
        var sa = (Session)a.Connection.State!;
        var sb = (Session)b.Connection.State!;

        Assert.Null(counters.Get(sa));
        counters.Set(sa, new Counter { N = 1 });
        names.Set(sa, "phone");
        Assert.Equal(1, counters.Get(sa)!.N);
        Assert.Equal("phone", names.Get(sa));
        Assert.Null(counters.Get(sb));
        Assert.Null(names.Get(sb));
    }

    [Fact]
    public void A_slot_added_after_a_connection_opened_is_refused()
    {
        var dispatcher = new Dispatcher(new ChatOptions(), new ActionRouter(), NullLogger.Instance);
        using var a = new InMemoryConnection(dispatcher);
        // Sessions are made with room for the slots that exist when they open: a later slot would not fit.
        Assert.Throws<InvalidOperationException>(() => dispatcher.AddSlot<string>());
    }
}
