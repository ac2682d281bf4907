using QkChat.Client;
using Xunit;

namespace QkChat.Tests.Client;

/// <summary>A connected client and the fake server's side of its connection; disposing closes all three.</summary>
internal sealed class Pair : IAsyncDisposable
{
    private Pair(FakeServer server, ChatClient client, FakeConnection connection)
    {
        Server = server;
        Client = client;
        Connection = connection;
    }

    public FakeServer Server { get; }
    public ChatClient Client { get; }
    public FakeConnection Connection { get; }

    public static async Task<Pair> OpenAsync(ChatClientOptions? options = null)
    {
        var server = new FakeServer();
        Task<FakeConnection> accepted = server.AcceptAsync();
        ChatClient client = await ChatClient.ConnectAsync("127.0.0.1", server.Port, options);
        return new Pair(server, client, await accepted);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Connection.DisposeAsync();
        Server.Dispose();
    }
}

internal static class Waits
{
    /// <summary>Bound for anything that should happen at once on loopback.</summary>
    public static readonly TimeSpan Short = TimeSpan.FromSeconds(5);

    /// <summary>The running test's token: a cancelled test run stops waiting at once.</summary>
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<T> Within<T>(this Task<T> task) => await task.WaitAsync(Short);

    public static async Task Within(this Task task) => await task.WaitAsync(Short);
}
