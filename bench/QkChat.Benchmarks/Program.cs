using BenchmarkDotNet.Running;

namespace QkChat.Benchmarks;

public static class Program
{
    /// <summary>`inline-server` starts the experimental runtime-threads server (docs/transport.md); `alloc-sources` attributes the
    /// routed message's allocation (AllocationSources); anything else runs BenchmarkDotNet.</summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "inline-server") return InlineHeartbeatServer.Run(args[1..]);
        if (args.Length > 0 && args[0] == "alloc-sources") return AllocationSources.Run(args[1..]);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
