using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Protocol;
using QkChat.Transport;

namespace QkChat.Benchmarks;

/// <summary>
/// Frame parse + dispatch + response of `heartbeat` on an in-memory connection (no sockets): the server's own
/// per-request cost. Budget: 0 bytes allocated per operation (also enforced by HeartbeatAllocationTests).
/// <see cref="Metrics"/> runs it with the request metrics (issue 8: counts and latency histogram) on and off in the
/// same run: the precise figure behind the loopback comparison, whose run-to-run noise is larger than the effect.
/// </summary>
[MemoryDiagnoser]
public class HeartbeatDispatchBenchmark
{
    private InMemoryConnection _connection = null!;
    private byte[] _one = [];
    private byte[] _sixteen = [];

    [Params(true, false)]
    public bool Metrics { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var dispatcher = new Dispatcher(new ChatOptions { RequestsPerSecond = int.MaxValue / 2, RequestBurst = int.MaxValue / 2, MetricsEnabled = Metrics },
            new ActionRouter(), NullLogger.Instance);
        _connection = new InMemoryConnection(dispatcher);
        _one = Framing.Encode("""{"action":"heartbeat","request_id":"123456"}"""u8);
        _sixteen = Enumerable.Repeat(_one, 16).SelectMany(f => f).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _connection.Dispose();

    [Benchmark(Baseline = true, Description = "1 heartbeat frame")]
    public int OneFrame()
    {
        int consumed = _connection.Receive(_one);
        _connection.DiscardOutput();
        return consumed;
    }

    [Benchmark(OperationsPerInvoke = 16, Description = "16 frames in one read (per frame)")]
    public int SixteenFrames()
    {
        int consumed = _connection.Receive(_sixteen);
        _connection.DiscardOutput();
        return consumed;
    }
}
