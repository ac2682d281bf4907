namespace QkChat.Core.Messaging;

/// <summary>
/// Whether this node may mint ids under its node number right now. The number is unique only while the node holds
/// its lease (docs/cluster.md): the lease's holder opens the permit until a moment it is sure the lease still runs,
/// and closes it when the lease is lost. Without a lease holder (in-process servers, tests) it is always open.
/// Read on reactors, written by the renewal task: one volatile long, no lock.
/// </summary>
public sealed class NodeIdPermit
{
    // Environment.TickCount64 (monotonic, unaffected by wall-clock steps) until which minting is allowed.
    private long _validUntilTick = long.MaxValue;

    /// <summary>An always-open permit: for servers that take no lease (a single node configured by number).</summary>
    public static NodeIdPermit Unlimited() => new();

    /// <summary>A permit closed until <see cref="OpenUntil"/> is called.</summary>
    public static NodeIdPermit Closed() => new() { _validUntilTick = long.MinValue };

    public bool IsOpen => Environment.TickCount64 < Volatile.Read(ref _validUntilTick);

    /// <summary>Minting is allowed until <paramref name="tick"/> (Environment.TickCount64); an earlier one never shortens it.</summary>
    public void OpenUntil(long tick)
    {
        while (true)
        {
            long current = Volatile.Read(ref _validUntilTick);
            if (current >= tick || Interlocked.CompareExchange(ref _validUntilTick, tick, current) == current) return;
        }
    }

    /// <summary>The lease is gone: no id is minted from now on (until a new lease opens it again).</summary>
    public void Close() => Volatile.Write(ref _validUntilTick, long.MinValue);
}

/// <summary>An id was asked for while the node's lease had lapsed: the request answers UNAVAILABLE, nothing done.</summary>
public sealed class NodeIdLapsedException() : BackendUnavailableException(
    "this node's id lease has lapsed (Redis did not confirm it in time), so it mints no ids until it is renewed");
