using System.Buffers;
using QkChat.Server.Cluster;
using Xunit;

namespace QkChat.Tests.Server;

/// <summary>
/// The cost of the cross-node push path per push (issue 19: 100,000 pushes/s through Redis): a receiving node reads a
/// batch of records naming hundreds of users each (a group of 1,000 over three nodes names ~333 per node) without a
/// copy of the user list, and the sending node encodes a round's batches into buffers it reuses. Measured in
/// allocated bytes, which do not depend on a quiet box (bench/QkChat.Benchmarks RouteWireBenchmark gives the time).
/// </summary>
[Collection(MeasuredAlone.Name)]
public sealed class RouteWireAllocationTests
{
    private sealed class Summer : RouteWire.IHandler
    {
        public long Sum;

        public void Deliver(ReadOnlySpan<uint> users, ReadOnlySpan<byte> body, bool droppable, long messageId)
        {
            foreach (uint u in users) Sum += u;
            Sum += body.Length;
        }

        public void DeliverGroup(ReadOnlySpan<uint> users, ReadOnlySpan<byte> body, long groupId, long seq, bool follows)
        {
            foreach (uint u in users) Sum += u;
            Sum += body.Length + seq;
        }

        public void Kick(uint user, string clientId, string reason) => Sum++;

        public void TakeOver(uint user, string clientId, string session, string? device) => Sum++;
    }

    private static byte[] Batch(int users, int records)
    {
        var writer = new ArrayBufferWriter<byte>();
        RouteWire.WriteHeader(writer, 1);
        uint[] ids = [.. Enumerable.Range(1, users).Select(i => (uint)i)];
        byte[] body = new byte[300];
        for (int i = 0; i < records; i++)
        {
            RouteWire.WriteGroup(writer, ids, body, 42, i + 1, follows: false);
            RouteWire.WriteDeliver(writer, ids, body, droppable: false, 1000 + i);
        }
        return writer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Reading_records_of_hundreds_of_users_allocates_nothing()
    {
        byte[] batch = Batch(users: 333, records: 8);
        var handler = new Summer();
        for (int i = 0; i < 100; i++) Assert.True(RouteWire.Read(batch, handler, out _)); // tiered JIT
        long expected = handler.Sum / 100;
        handler.Sum = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) RouteWire.Read(batch, handler, out _);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(expected * 100, handler.Sum); // every user of every record was read
    }

    [Fact]
    public void A_round_encoded_into_the_kept_buffers_allocates_nothing_and_reads_back()
    {
        var batches = new RouteBatches(0);
        uint[] nodeOne = [.. Enumerable.Range(1, 333).Select(i => (uint)i)], nodeTwo = [.. nodeOne.Select(u => u + 1000)];
        byte[] body = new byte[300];
        int Round()
        {
            batches.Begin();
            for (int e = 0; e < 8; e++)
            {
                RouteWire.WriteGroup(batches.For(1), nodeOne, body, 42, e + 1, follows: false);
                batches.SealIfFull(1);
                RouteWire.WriteGroup(batches.For(2), nodeTwo, body, 42, e + 1, follows: false);
                batches.SealIfFull(2);
            }
            int bytes = 0;
            foreach (var (_, batch) in batches.Sealed()) bytes += batch.Length;
            batches.Recycle();
            return bytes;
        }

        for (int i = 0; i < 100; i++) Round(); // tiered JIT, the buffers grown once
        long before = GC.GetAllocatedBytesForCurrentThread();
        int total = 0;
        for (int i = 0; i < 100; i++) total += Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(100 * 2 * (2 + 8 * (22 + 333 * 4 + 4 + 300)), total);

        // What the last round left in the buffers is still that round's batches: each node's reads back whole.
        batches.Begin();
        RouteWire.WriteGroup(batches.For(2), nodeTwo, body, 42, 9, follows: true);
        var sealedOnes = batches.Sealed();
        Assert.Single(sealedOnes);
        var handler = new Summer();
        Assert.True(RouteWire.Read(sealedOnes[0].Bytes.Span, handler, out int sender));
        Assert.Equal(0, sender);
        Assert.Equal(nodeTwo.Sum(u => (long)u) + 300 + 9, handler.Sum);
    }

    [Fact]
    public void A_batch_past_the_size_bound_is_sealed_and_the_next_record_starts_a_new_one()
    {
        var batches = new RouteBatches(3);
        batches.Begin();
        uint[] users = [.. Enumerable.Range(1, 1000).Select(i => (uint)i)];
        byte[] body = new byte[1000];
        int records = RouteWire.MaxBatchBytes / (22 + 4000 + 4 + 1000) + 2;
        for (int e = 0; e < records; e++)
        {
            RouteWire.WriteGroup(batches.For(5), users, body, 7, e + 1, follows: false);
            batches.SealIfFull(5);
        }
        var all = batches.Sealed();
        Assert.Equal(2, all.Count);
        Assert.All(all, b => Assert.Equal(5, b.Node));
        var handler = new Summer();
        Assert.True(RouteWire.Read(all[0].Bytes.Span, handler, out _));
        Assert.True(RouteWire.Read(all[1].Bytes.Span, handler, out _));
        Assert.Equal(records * (users.Sum(u => (long)u) + 1000) + Enumerable.Range(1, records).Sum(), handler.Sum);
    }
}
