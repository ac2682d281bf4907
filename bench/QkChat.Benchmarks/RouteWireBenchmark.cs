using System.Buffers;
using BenchmarkDotNet.Attributes;
using QkChat.Server.Cluster;

namespace QkChat.Benchmarks;

/// <summary>
/// The cross-node push path's own cost, without Redis or sockets (issue 19: 100,000 pushes/s through Redis): a round of
/// <see cref="Entries"/> group entries, each for a group of 1,000 members spread over three nodes, as the route sender
/// writes it (one group record per entry and target node: the ~300-byte body once, the node's 333 user ids) and as a
/// receiving node reads it. A crossing push is one user named in a record, so the time per push is the time of an
/// operation divided by <see cref="PushesPerRound"/> (encode) or <see cref="PushesPerBatch"/> (decode). The frame push
/// to each device after the read is LocalDelivery's and is measured by GroupFanOutBenchmark.
/// </summary>
[MemoryDiagnoser]
public class RouteWireBenchmark
{
    private const int UsersPerNode = 333, TargetNodes = 2;
    private readonly uint[][] _users = new uint[TargetNodes][];
    private readonly byte[] _body = new byte[300];
    private readonly RouteBatches _batches = new(0);
    private readonly Counter _counter = new();
    private byte[] _batch = [];

    [Params(8, 64)]
    public int Entries { get; set; }

    public int PushesPerRound => Entries * UsersPerNode * TargetNodes;

    public int PushesPerBatch => Entries * UsersPerNode;

    [GlobalSetup]
    public void Setup()
    {
        for (int n = 0; n < TargetNodes; n++) _users[n] = [.. Enumerable.Range(0, UsersPerNode).Select(i => (uint)(100_000 + i * 3 + n + 1))];
        var writer = new ArrayBufferWriter<byte>();
        RouteWire.WriteHeader(writer, 0);
        for (int e = 0; e < Entries; e++) RouteWire.WriteGroup(writer, _users[0], _body, 42, e + 1, follows: false);
        _batch = writer.WrittenSpan.ToArray();
    }

    /// <summary>The route sender's step 3 for one round: every entry's record into each target node's batch, reused buffers.</summary>
    [Benchmark]
    public int EncodeRound()
    {
        _batches.Begin();
        for (int e = 0; e < Entries; e++)
            for (int n = 0; n < TargetNodes; n++)
            {
                RouteWire.WriteGroup(_batches.For(n + 1), _users[n], _body, 42, e + 1, follows: false);
                _batches.SealIfFull(n + 1);
            }
        int bytes = 0;
        foreach (var (_, batch) in _batches.Sealed()) bytes += batch.Length;
        _batches.Recycle();
        return bytes;
    }

    /// <summary>A receiving node's read of one node's batch of the round, every user of every record visited.</summary>
    [Benchmark]
    public long DecodeBatch()
    {
        _counter.Sum = 0;
        RouteWire.Read(_batch, _counter, out _);
        return _counter.Sum;
    }

    private sealed class Counter : RouteWire.IHandler
    {
        public long Sum;

        public void Deliver(ReadOnlySpan<uint> users, ReadOnlySpan<byte> body, bool droppable, long messageId) => Sum += users.Length;

        public void DeliverGroup(ReadOnlySpan<uint> users, ReadOnlySpan<byte> body, long groupId, long seq, bool follows)
        {
            foreach (uint user in users) Sum += user;
        }

        public void Kick(uint user, string clientId, string reason) => Sum++;

        public void TakeOver(uint user, string clientId, string session, string? device) => Sum++;
    }
}
