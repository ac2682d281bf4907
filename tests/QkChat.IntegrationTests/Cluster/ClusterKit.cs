using System.Text.RegularExpressions;
using MySqlConnector;
using QkChat.Client;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Accounts;
using QkChat.Server.Security;
using StackExchange.Redis;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// Several real qkchatd processes on one throwaway MariaDB database and one Redis (the stack's, or a test's own), each
/// on its own port with its own leased node id: a deployment of several nodes on loopback (docs/cluster.md).
/// </summary>
internal sealed partial class ClusterKit : IAsyncDisposable
{
    public const string Password = "a long enough secret";

    private readonly List<ChatClient> _clients = [];

    private ExternalProcess? _ownRedis;

    private ClusterKit(TempDatabase db, ExternalProcess[] nodes, int[] ports, int redisPort, ConnectionMultiplexer redis)
    {
        Db = db;
        Nodes = nodes;
        Ports = ports;
        RedisPort = redisPort;
        Redis = redis;
    }

    public TempDatabase Db { get; }
    public ExternalProcess[] Nodes { get; }
    public int[] Ports { get; }
    public int RedisPort { get; }
    public ConnectionMultiplexer Redis { get; }

    /// <param name="redisPort">A Redis the test runs itself; without it (and without <paramref name="redisEndpoints"/>) the kit
    /// starts a redis-server of its own for this deployment. Not the stack's shared one: every qkchatd of the suite uses
    /// that one, so a node killed by another test lapses there, a node of this deployment may take its number, and the
    /// live nodes of either deployment reap the new holder's devices (a fresh clone's full run lost cross-node pushes
    /// in two tests so, 2026-12-07). One Redis per deployment is what production has (docs/cluster.md).</param>
    /// <param name="redisEndpoints">A Redis Cluster's seed list (RedisClusterFixture.Endpoints) instead of a single Redis.</param>
    /// <param name="env">Settings every node gets on top (e.g. QKCHAT_NODE_LEASE_TTL_S).</param>
    public static async Task<ClusterKit> StartAsync(int nodes, int? redisPort = null, string? redisEndpoints = null,
        IReadOnlyDictionary<string, string>? env = null)
    {
        ExternalProcess? ownRedis = null;
        if (redisPort is null && redisEndpoints is null)
        {
            redisPort = ServerProcess.FreePort();
            ownRedis = ExternalProcess.Start("redis-server",
                ["--port", redisPort.Value.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], workingDirectory: Path.GetTempPath());
            await ownRedis.WaitForOutputAsync("Ready to accept connections", TimeSpan.FromSeconds(30));
        }
        var db = await TempDatabase.CreateAsync();
        int port = redisPort ?? TestStack.RedisPort;
        Dictionary<string, string> NodeEnv(int chatPort)
        {
            var e = ServerProcess.StackEnvironment(db.Name, chatPort);
            e["QKCHAT_REDIS_PORT"] = port.ToString();
            if (redisEndpoints is not null) e["QKCHAT_REDIS_HOST"] = redisEndpoints;
            e["QKCHAT_DB_AUTO_MIGRATE"] = "true";
            foreach (var (k, v) in env ?? new Dictionary<string, string>()) e[k] = v;
            return e;
        }
        var processes = new ExternalProcess[nodes];
        var ports = new int[nodes];
        for (int i = 0; i < nodes; i++)
        {
            ports[i] = ServerProcess.FreePort();
            processes[i] = ServerProcess.Start(NodeEnv(ports[i]));
            // One after the other: the first migrates the database, the others find it ready.
            await processes[i].WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(60));
        }
        var redis = await ConnectionMultiplexer.ConnectAsync((redisEndpoints ?? $"{TestStack.RedisHost}:{port}") + ",abortConnect=false");
        return new ClusterKit(db, processes, ports, port, redis) { _ownRedis = ownRedis, _nodeEnv = NodeEnv };
    }

    private Func<int, Dictionary<string, string>> _nodeEnv = null!;

    /// <summary>
    /// Starts a new process in place of process <paramref name="index"/> (which must have exited), on a new port, with the
    /// fixed node id <paramref name="nodeId"/>, and waits until it serves chat.
    /// </summary>
    public async Task RestartAsync(int index, int nodeId)
    {
        await Nodes[index].DisposeAsync();
        Ports[index] = ServerProcess.FreePort();
        var env = _nodeEnv(Ports[index]);
        env["QKCHAT_NODE_ID"] = nodeId.ToString();
        Nodes[index] = ServerProcess.Start(env);
        await Nodes[index].WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Every node's warnings and errors so far (ZLogger's short levels WRN, ERR, CRT), for a failure message: a wait that
    /// times out on a loaded box then says whether a node logged, say, a failed route round, instead of only "no push".
    /// </summary>
    public string NodeWarnings()
    {
        var lines = new List<string>();
        for (int i = 0; i < Nodes.Length; i++)
            foreach (var line in Nodes[i].Output.Split('\n'))
                if (line.Contains(" WRN ") || line.Contains(" ERR ") || line.Contains(" CRT ")) lines.Add($"node {i}: {line.TrimEnd()}");
        return lines.Count == 0 ? "no node logged a warning" : string.Join('\n', lines.TakeLast(40));
    }

    /// <summary>The node id process <paramref name="index"/> leased (from its start-up log).</summary>
    public int NodeIdOf(int index) => int.Parse(LeaseLine().Match(Nodes[index].Output).Groups[1].Value);

    [GeneratedRegex(@"node id (\d+) leased in Redis")]
    private static partial Regex LeaseLine();

    /// <summary>A metric of process <paramref name="index"/> from its /metrics (0 when it is not listed).</summary>
    public async Task<double> MetricAsync(int index, string name) => await ServerProcess.MetricAsync(Nodes[index], name) ?? 0;

    /// <summary>Whether process <paramref name="index"/>'s /metrics lists <paramref name="name"/> at all (MetricAsync reads 0 either way).</summary>
    public async Task<bool> ListsMetricAsync(int index, string name) => await ServerProcess.MetricAsync(Nodes[index], name) is not null;

    public async Task<(uint Id, string Name)> CreateUserAsync()
    {
        string name = AccountsHarness.UniqueName();
        string hash = new Argon2idPasswordHasher(8 * 1024, 1).Hash(Password);
        var (_, user) = await new MySqlUserStore(Db.DataSource).CreateAsync(name, name + "@example.org", hash, CancellationToken.None);
        return (user!.UserId, name);
    }

    /// <summary>Makes every pair of <paramref name="users"/> friends (straight into the database).</summary>
    public async Task MakeFriendsAsync(params uint[] users)
    {
        var pairs = from a in users from b in users where a != b select $"({a}, {b}, 0)";
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await using var insert = new MySqlCommand($"INSERT INTO friendships VALUES {string.Join(", ", pairs)}", connection);
        await insert.ExecuteNonQueryAsync();
    }

    /// <summary>Logs <paramref name="name"/> in on node <paramref name="node"/> as <paramref name="clientId"/>, then waits
    /// until the registry names that node for the device (the registry is written after the login answers).</summary>
    public async Task<ChatClient> LoginAsync(int node, string name, uint userId, string clientId)
    {
        var client = await ConnectAsync(node, AccountsHarness.RandomLoopback());
        await Ok(AccountsHarness.Login(client, name, Password, clientId));
        await WaitRegisteredAsync(userId, clientId, NodeIdOf(node));
        return client;
    }

    /// <summary>A connection to node <paramref name="node"/> from <paramref name="from"/>, not logged in; disposed with the kit.</summary>
    public async Task<ChatClient> ConnectAsync(int node, System.Net.IPAddress from)
    {
        var client = await ChatClient.ConnectAsync("127.0.0.1", Ports[node], new ChatClientOptions { LocalAddress = from });
        lock (_clients) _clients.Add(client);
        return client;
    }

    /// <summary>The node the device registry names for the device, or null.</summary>
    public async Task<int?> RegisteredNodeAsync(uint userId, string clientId) =>
        NodeOfEntry(await Redis.GetDatabase().HashGetAsync("qk:devices:{" + userId + "}", clientId));

    public Task WaitRegisteredAsync(uint userId, string clientId, int nodeId) =>
        Wait.UntilAsync(async () => await RegisteredNodeAsync(userId, clientId) == nodeId,
            $"device {userId}/{clientId} registered on node {nodeId}");

    /// <summary>The node number a device registry entry names (the value is "node:session"; a bare "N" of earlier
    /// versions too); null for no entry.</summary>
    public static int? NodeOfEntry(RedisValue entry)
    {
        string? s = entry;
        if (s is null) return null;
        int colon = s.IndexOf(':');
        return int.TryParse(colon < 0 ? s : s[..colon], out int node) ? node : null;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients) await client.DisposeAsync();
        // A graceful stop releases each node's lease: killed nodes would hold their numbers (16 in all) for the lease TTL.
        foreach (var node in Nodes)
        {
            try
            {
                node.Signal(ServerProcess.SIGTERM);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
        }
        foreach (var node in Nodes)
        {
            try
            {
                await node.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
            }
            await node.DisposeAsync();
        }
        await Redis.DisposeAsync();
        if (_ownRedis is not null) await _ownRedis.DisposeAsync();
        await Db.DisposeAsync();
    }
}
