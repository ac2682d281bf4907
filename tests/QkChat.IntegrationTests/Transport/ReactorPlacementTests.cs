using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Transport;

public sealed class ReactorPlacementTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_burst_of_connections_is_spread_evenly_and_the_spread_holds_after_churn()
    {
        await using var server = InProcessServer.Start(t => t.Reactors = 2);
        var clients = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => server.ConnectAsync()));
        await server.EventuallyAsync(() => server.Engine.OpenConnections == 100, "all open");
        Assert.All(server.Engine.Reactors, r => Assert.Equal(50, r.ConnectionCount));

        foreach (var c in clients.Take(60)) c.Dispose();
        await server.EventuallyAsync(() => server.Engine.OpenConnections == 40, "60 closed");
        var more = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => server.ConnectAsync()));
        await server.EventuallyAsync(() => server.Engine.OpenConnections == 100, "refilled");
        Assert.All(server.Engine.Reactors, r => Assert.Equal(50, r.ConnectionCount));
        foreach (var c in clients.Skip(60).Concat(more)) c.Dispose();
    }

    [Fact(Timeout = 60_000)]
    public async Task Pinned_reactors_run_each_on_its_own_cpu()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "reads /proc");
        await using var server = InProcessServer.Start(t => { t.Reactors = 2; t.PinReactors = true; });
        await server.EventuallyAsync(() => server.Engine.Reactors.All(r => Volatile.Read(ref r.Stats.PinnedCpu) != -2), "reactors started");
        Assert.Equal([0, 1 % Environment.ProcessorCount], server.Engine.Reactors.Select(r => r.Stats.PinnedCpu));

        // What the kernel says, not what the syscall returned: each reactor thread may run on exactly its own CPU.
        // Thread names are cut to 15 characters in comm ("qkchat-reactor-"), and other tests' servers run reactors
        // in this process too, so the reactors report their thread ids and the names only confirm them.
        var reactorTids = Directory.GetDirectories("/proc/self/task")
            .Select(d => (Tid: int.Parse(Path.GetFileName(d)), Comm: TryRead(Path.Combine(d, "comm"))))
            .Where(t => t.Comm?.StartsWith("qkchat-reactor", StringComparison.Ordinal) == true)
            .Select(t => t.Tid)
            .ToHashSet();
        var allowed = new List<string>();
        foreach (var reactor in server.Engine.Reactors)
        {
            int tid = Volatile.Read(ref reactor.Stats.OsThreadId);
            Assert.Contains(tid, reactorTids);
            allowed.Add(CpusAllowed(tid));
        }
        Assert.Equal([.. server.Engine.Reactors.Select(r => r.Stats.PinnedCpu.ToString())], allowed);
        if (Environment.ProcessorCount > 1)
        {
            Assert.Equal(allowed.Count, allowed.Distinct().Count());
            // The check itself can tell: an unpinned thread (this one) may run on more than one CPU.
            Assert.NotEqual(allowed[0], CpusAllowed(int.Parse(TryRead("/proc/thread-self/stat")!.Split(' ')[0])));
        }
    }

    /// <summary>The Cpus_allowed_list line of a thread of this process, e.g. "1" or "0-1".</summary>
    private static string CpusAllowed(int tid) =>
        File.ReadLines($"/proc/self/task/{tid}/status")
            .Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))["Cpus_allowed_list:".Length..].Trim();

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return null; // the thread ended while we looked
        }
    }
}
