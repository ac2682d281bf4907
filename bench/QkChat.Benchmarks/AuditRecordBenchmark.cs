using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Protocol;
using QkChat.Transport;

namespace QkChat.Benchmarks;

/// <summary>
/// A request that records one security event and answers (what login, logout or a kick do on their path), on an
/// in-memory connection: with no audit log, with the audit writer keeping up, and with the writer stalled so the
/// queue is full and every event is dropped and counted. The full case must cost no more than the others: a full
/// audit log may lose events (counted), never slow requests.
/// </summary>
[MemoryDiagnoser]
public class AuditRecordBenchmark
{
    private sealed class DiscardSink : IAuditSink
    {
        public Task WriteAsync(IReadOnlyList<AuditRow> batch, CancellationToken ct) => Task.CompletedTask;
    }

    private sealed class StalledSink : IAuditSink
    {
        public readonly TaskCompletionSource Gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task WriteAsync(IReadOnlyList<AuditRow> batch, CancellationToken ct) => Gate.Task;
    }

    [Params("none", "keeping-up", "full")]
    public string Audit { get; set; } = "none";

    private InMemoryConnection _connection = null!;
    private AuditBatcher? _batcher;
    private StalledSink? _stalled;
    private byte[] _frame = [];

    [GlobalSetup]
    public void Setup()
    {
        IAuditLog audit = NullAuditLog.Instance;
        if (Audit != "none")
        {
            _stalled = Audit == "full" ? new StalledSink() : null;
            _batcher = new AuditBatcher(new AuditOptions { QueueCapacity = 10_000 }, (IAuditSink?)_stalled ?? new DiscardSink(), NullLogger.Instance);
            audit = _batcher;
            if (_stalled is not null)
                for (uint i = 0; i < 20_000; i++) _batcher.Record(Event); // fill it: from here on every event is dropped
        }
        var router = new ActionRouter();
        var dispatcher = new Dispatcher(new ChatOptions { RequestsPerSecond = int.MaxValue / 2, RequestBurst = int.MaxValue / 2 },
            router, NullLogger.Instance);
        router.Register("audited", allowedBeforeLogin: true, ctx =>
        {
            audit.Record(Event);
            ctx.Respond(ErrorCodes.Ok, "ok");
        });
        _connection = new InMemoryConnection(dispatcher);
        _frame = Framing.Encode("""{"action":"audited","request_id":"123456"}"""u8);
    }

    private static readonly AuditRecord Event = new(AuditEvent.Login, 123_456_789, "phone", "Pixel 8", "203.0.113.7", true, "password");

    [GlobalCleanup]
    public void Cleanup()
    {
        _connection.Dispose();
        Console.WriteLine($"// audit={Audit}: dropped {_batcher?.Dropped ?? 0}, stored {_batcher?.Written ?? 0}");
        _stalled?.Gate.SetResult();
        _batcher?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Description = "request recording one audit event")]
    public int Request()
    {
        int consumed = _connection.Receive(_frame);
        _connection.DiscardOutput();
        return consumed;
    }
}
