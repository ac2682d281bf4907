using System.Globalization;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Results;

namespace QkChat.LoadGen;

/// <summary>Warnings about limits a run would hit, printed to stderr before it starts (the run still goes ahead).</summary>
public static class Preflight
{
    /// <summary>qkchatd's default server.max_clients_per_ip (docs/configuration.md): more connections per source
    /// address are refused with SERVER_BUSY unless the server is configured otherwise.</summary>
    private const int ServerDefaultPerAddress = 1000;

    /// <summary>Descriptors a process needs besides its connections (runtime, stdio, epoll, pipes to workers).</summary>
    private const int ReservedDescriptors = 64;

    public static void Warn(LoadGenOptions options)
    {
        int workers = options.EffectiveWorkers;
        int perWorker = (options.Connections + workers - 1) / workers;
        if (ProcSampler.OpenFileLimit() is { } limit && perWorker + ReservedDescriptors > limit)
            Say($"{perWorker:N0} connections per process exceed the open-file limit {limit:N0}: use --workers {(options.Connections + limit - ReservedDescriptors - 1) / (limit - ReservedDescriptors)} or more");

        int ports = EphemeralPorts();
        int sources = Math.Max(1, options.SourceAddresses.Count);
        // The ephemeral range and qkchatd's per-address limit count per server endpoint: --nodes spread the load over
        // several (round-robin, so evenly).
        int nodes = options.Targets.Count;
        long perNode = (options.Connections + nodes - 1) / nodes;
        if (perNode > (long)ports * sources)
            Say($"{perNode:N0} connections per node from {sources} source address(es) need more than {ports:N0} ephemeral ports each: add --source-addresses (e.g. 127.0.0.2-127.0.0.{1 + (perNode + ports - 1) / ports})");
        if (perNode > (long)ServerDefaultPerAddress * sources)
            Say($"{perNode / sources:N0} connections per source address and node: qkchatd allows {ServerDefaultPerAddress:N0} by default (QKCHAT_MAX_CLIENTS_PER_IP), so raise it or add source addresses");
        if (options.SourceAddresses.Count > 0 && options.SourceAddresses.Count % workers != 0 && options.SourceAddresses.Count > workers)
            Say($"{options.SourceAddresses.Count} source addresses over {workers} workers: some workers get more addresses than others");
    }

    /// <summary>Size of the ephemeral port range (/proc/sys/net/ipv4/ip_local_port_range; Linux default 32768-60999).</summary>
    private static int EphemeralPorts()
    {
        try
        {
            string[] parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out int low) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out int high))
                return high - low + 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux: assume the default range below.
        }
        return 60999 - 32768 + 1;
    }

    private static void Say(string text) => Console.Error.WriteLine("qkchat-loadgen: warning: " + text);
}
