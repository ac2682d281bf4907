using Xunit;

namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>
/// A 3-master Redis Cluster for one test collection, started and stopped with scripts/redis-cluster.sh (CI has
/// nothing running). Ports: QKCHAT_TEST_CLUSTER_PORT and the two after it (default 17001-17003, bus +10000). Only a
/// missing redis-server skips the tests, with that reason; any other failure to start fails them.
/// </summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    // Three redis-server starts, the slot assignment and the gossip take ~3 s idle; a loaded box may take ten times.
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(120);

    private readonly Dictionary<string, string> _env;
    private readonly int _port = int.Parse(Environment.GetEnvironmentVariable("QKCHAT_TEST_CLUSTER_PORT") ?? "17001");

    public RedisClusterFixture()
    {
        _env = new()
        {
            ["QKCHAT_CLUSTER_PORT"] = _port.ToString(),
            ["QKCHAT_CLUSTER_DIR"] = Path.Combine(Path.GetTempPath(), $"qkchat-test-cluster-{_port}"),
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin",
        };
    }

    /// <summary>Why the cluster tests skip (redis-server is not installed), or null.</summary>
    public string? Missing { get; private set; }

    /// <summary>The seed list as redis.host takes it.</summary>
    public string Endpoints => $"127.0.0.1:{_port},127.0.0.1:{_port + 1},127.0.0.1:{_port + 2}";

    private static string Script => Path.Combine(TestStack.RepoRoot, "scripts", "redis-cluster.sh");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists("/usr/bin/redis-server") && !File.Exists("/usr/local/bin/redis-server"))
        {
            Missing = "redis-server is not installed (apt-get install redis-server): no Redis Cluster to test against";
            return;
        }
        (await ExternalProcess.RunAsync(Script, ["up"], _env, ScriptTimeout)).EnsureSuccess("redis-cluster.sh up");
    }

    public async ValueTask DisposeAsync()
    {
        if (Missing is null) await ExternalProcess.RunAsync(Script, ["down"], _env, ScriptTimeout);
    }
}

[CollectionDefinition(Name)]
public sealed class RedisClusterCollection : ICollectionFixture<RedisClusterFixture>
{
    public const string Name = "Redis Cluster";
}
