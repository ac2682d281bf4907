using System.Diagnostics.Tracing;

namespace QkChat.Benchmarks;

/// <summary>
/// `alloc-sources [messages] [sampled messages]`: where the bytes of <see cref="MessageRouteBenchmark"/> come from. Two passes over the same
/// in-memory route. The exact pass counts bytes per message by thread: the reactor thread's share while the sender's
/// frame is handled (parse, checks, queueing) and while the answer and the push are run from the inboxes, and the rest
/// of the process (the writer thread and the thread pool) from GC.GetTotalAllocatedBytes. The sampled pass listens to
/// the runtime's GCAllocationTick events (one per ~100 KB allocated, naming the type of the object that crossed the
/// mark): over many messages each type's share of the ticks is its share of the bytes, the table RESULTS.md shows.
/// </summary>
public static class AllocationSources
{
    public static int Run(string[] args)
    {
        // A loaded box (load average 50 on 2 cores) routes a few hundred a second: the defaults fit in minutes there.
        int messages = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5_000;
        int sampledMessages = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20_000;
        var route = new MessageRouteBenchmark();
        route.Setup();
        for (int i = 0; i < 3_000; i++) route.RouteOneMessage(); // pools, caches, tiered JIT

        long handled = 0, answered = 0;
        long total = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < messages; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            route.Receive();
            long middle = GC.GetAllocatedBytesForCurrentThread();
            route.AwaitAnswerAndPush();
            long after = GC.GetAllocatedBytesForCurrentThread();
            handled += middle - before;
            answered += after - middle;
        }
        total = GC.GetTotalAllocatedBytes(precise: true) - total;
        Console.WriteLine($"exact, {messages:N0} messages: {total / (double)messages:F1} B per message in the process");
        Console.WriteLine($"  reactor, handling the frame (parse, checks, queueing): {handled / (double)messages:F1} B");
        Console.WriteLine($"  reactor, running the answer and the push from the inboxes: {answered / (double)messages:F1} B");
        Console.WriteLine($"  other threads (writer, thread pool): {(total - handled - answered) / (double)messages:F1} B");

        using var ticks = new AllocationTicks();
        long sampled = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < sampledMessages; i++) route.RouteOneMessage();
        sampled = GC.GetTotalAllocatedBytes(precise: true) - sampled;
        var byType = ticks.Snapshot();
        long tickCount = Math.Max(1, byType.Values.Sum());
        Console.WriteLine($"sampled, {sampledMessages:N0} messages, {tickCount} ticks ({sampled / (double)sampledMessages:F1} B per message with the listener on):");
        foreach (var (type, count) in byType.OrderByDescending(p => p.Value))
            Console.WriteLine($"  {sampled / (double)sampledMessages * count / tickCount,7:F1} B  {count,5} ticks  {type}");
        route.Cleanup();
        return 0;
    }

    /// <summary>The runtime's allocation ticks by type name (GC keyword, verbose level).</summary>
    private sealed class AllocationTicks : EventListener
    {
        private readonly Dictionary<string, long> _byType = [];
        private bool _on;

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (!e.EventName!.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
            int index = e.PayloadNames!.IndexOf("TypeName");
            string type = index >= 0 ? e.Payload[index]?.ToString() ?? "?" : "?";
            lock (_byType)
            {
                if (!_on) return;
                _byType[type] = _byType.GetValueOrDefault(type) + 1;
            }
        }

        public AllocationTicks()
        {
            lock (_byType) _on = true;
        }

        public Dictionary<string, long> Snapshot()
        {
            lock (_byType)
            {
                _on = false;
                return new Dictionary<string, long>(_byType);
            }
        }
    }
}
