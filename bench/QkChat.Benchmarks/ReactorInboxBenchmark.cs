using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using QkChat.Transport;

namespace QkChat.Benchmarks;

/// <summary>
/// The reactor inbox (src/QkChat.Transport/ReactorInbox.cs, lock-free rings) against the design it replaced
/// (ConcurrentQueue plus a "scheduled" flag and a ManualResetEventSlim, kept below as ConcurrentQueueInbox),
/// with the reactor's real 40-byte work item. Per item: post + take on one thread (the raw queue cost), and
/// producers on other threads with the consumer parking whenever it runs dry (what a reactor does).
/// Figures in docs/transport.md.
/// </summary>
[MemoryDiagnoser]
public class ReactorInboxBenchmark
{
    private const int Batch = 64;

    private static readonly ReactorWork Work = new(WorkKind.Tick);

    private readonly ReactorInbox<ReactorWork> _rings = new();
    private readonly ConcurrentQueueInbox _queue = new();

    [Benchmark(OperationsPerInvoke = Batch, Description = "ConcurrentQueue inbox: post+take, one thread")]
    public int QueueSameThread()
    {
        for (int i = 0; i < Batch; i++) _queue.Post(Work);
        int n = 0;
        while (_queue.TryTake(out _)) n++;
        return n;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "lock-free rings: post+take, one thread")]
    public int RingsSameThread()
    {
        for (int i = 0; i < Batch; i++) _rings.Post(Work);
        int n = 0;
        while (_rings.TryTake(out _)) n++;
        return n;
    }
}

/// <summary>Producer threads post bursts; the benchmark thread consumes like a reactor, parking when it runs dry.</summary>
[MemoryDiagnoser]
public class ReactorInboxCrossThreadBenchmark
{
    // Items per invocation, split over the producers so the per-item figure compares across Producers.
    private const int Total = 40_000;

    private static readonly ReactorWork Work = new(WorkKind.Tick);

    private ReactorInbox<ReactorWork> _rings = null!;
    private ConcurrentQueueInbox _queue = null!;
    private Thread[] _producers = [];
    private SemaphoreSlim _go = null!;
    private volatile bool _stop;
    private volatile bool _useRings;

    [Params(1, 2)]
    public int Producers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _rings = new ReactorInbox<ReactorWork>();
        _queue = new ConcurrentQueueInbox();
        _go = new SemaphoreSlim(0);
        _producers = new Thread[Producers];
        for (int i = 0; i < Producers; i++)
        {
            _producers[i] = new Thread(Produce) { IsBackground = true };
            _producers[i].Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _go.Release(_producers.Length);
        foreach (var t in _producers) t.Join();
    }

    /// <summary>Each release of the semaphore: one burst of posts from this producer thread.</summary>
    private void Produce()
    {
        while (true)
        {
            _go.Wait();
            if (_stop) return;
            if (_useRings)
                for (int i = 0; i < Total / Producers; i++) _rings.Post(Work);
            else
                for (int i = 0; i < Total / Producers; i++) _queue.Post(Work);
        }
    }

    [Benchmark(OperationsPerInvoke = Total, Description = "ConcurrentQueue inbox: producers -> parking consumer")]
    public int QueueCrossThread()
    {
        _useRings = false;
        _go.Release(_producers.Length);
        int n = 0, goal = Total / Producers * Producers;
        while (n < goal)
        {
            _queue.Wait();
            while (_queue.TryTake(out _)) n++;
        }
        return n;
    }

    [Benchmark(OperationsPerInvoke = Total, Description = "lock-free rings: producers -> parking consumer")]
    public int RingsCrossThread()
    {
        _useRings = true;
        _go.Release(_producers.Length);
        int n = 0, goal = Total / Producers * Producers;
        while (n < goal)
        {
            _rings.Wait();
            while (_rings.TryTake(out _)) n++;
        }
        return n;
    }
}

/// <summary>The inbox as it was before the lock-free rings (git history: ReactorInbox.cs), for comparison only.</summary>
internal sealed class ConcurrentQueueInbox
{
    private readonly ConcurrentQueue<ReactorWork> _queue = new();
    private readonly ManualResetEventSlim _signal = new(false, spinCount: 0);
    private int _scheduled;

    public void Post(in ReactorWork work)
    {
        _queue.Enqueue(work);
        if (Interlocked.Exchange(ref _scheduled, 1) == 0) _signal.Set();
    }

    public void Wait()
    {
        _signal.Wait();
        _signal.Reset();
        Volatile.Write(ref _scheduled, 0);
    }

    public bool TryTake(out ReactorWork work) => _queue.TryDequeue(out work);
}
