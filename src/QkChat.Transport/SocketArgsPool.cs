using System.Collections.Concurrent;
using System.Net.Sockets;

namespace QkChat.Transport;

/// <summary>
/// Reuses SocketAsyncEventArgs across connections (each one carries native state worth keeping). An instance is
/// returned only when no operation is outstanding on it, so a late completion can never reach a new owner.
/// </summary>
internal static class SocketArgsPool
{
    // Enough to absorb a reconnect storm without keeping a full max_clients worth alive after it.
    private const int MaxRetained = 4096;
    private static readonly ConcurrentBag<SocketAsyncEventArgs> Items = [];

    public static SocketAsyncEventArgs Rent(Connection owner)
    {
        if (!Items.TryTake(out var args))
        {
            args = new SocketAsyncEventArgs(unsafeSuppressExecutionContextFlow: true);
            args.Completed += OnCompleted;
        }
        args.UserToken = owner;
        return args;
    }

    public static void Return(SocketAsyncEventArgs args)
    {
        args.UserToken = null;
        args.BufferList = null;
        args.SetBuffer(null, 0, 0);
        if (Items.Count < MaxRetained) Items.Add(args);
        else args.Dispose();
    }

    /// <summary>Runs on a runtime I/O thread: only hands the event to the owning reactor.</summary>
    private static void OnCompleted(object? sender, SocketAsyncEventArgs args)
    {
        var connection = (Connection)args.UserToken!;
        var kind = args.LastOperation == SocketAsyncOperation.Receive ? WorkKind.ReceiveReady : WorkKind.SendCompleted;
        connection.Reactor.Post(new ReactorWork(kind, connection));
    }
}
