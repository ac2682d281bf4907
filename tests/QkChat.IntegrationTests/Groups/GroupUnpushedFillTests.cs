using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;
using QkChat.Core.Messaging;
using QkChat.IntegrationTests.Chat;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using QkChat.Server.Cluster;
using StackExchange.Redis;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Groups.GroupKit;

namespace QkChat.IntegrationTests.Groups;

/// <summary>
/// A stored entry whose members could not be read after its commit (the pool was exhausted: GroupWriter answers it
/// `sent` and pushes it to nobody) is pushed later by the group's push order, when the next entry shows the gap and the
/// fill reads it back from MariaDB (docs/cluster.md, "Group order"). protocol.md §9: every member's devices get it, but
/// never the sending connection, which has it from its answer. Composed as qkchatd composes one node (a lease, so
/// ClusterDelivery and GroupPushOrder; the writers on their own pool). Seen under load as "3 entries delivered twice"
/// by the load generator's group run (the sending connection held the seq from its `sent`, then got it pushed).
/// </summary>
public sealed class GroupUnpushedFillTests
{
    /// <summary>The features' request pool: small, so the test can hold all of it; a pool wait gives up after this many
    /// seconds (long enough for a background user of the pool to give its connection back before the test takes it).</summary>
    private const int PoolSize = 2, PoolWaitSeconds = 5;

    [Fact(Timeout = 120_000)] // one in-process node, three logins and one 5 s pool wait on a loaded 2-core box
    public async Task An_entry_filled_after_its_members_were_unread_is_not_pushed_to_its_sending_device()
    {
        await using var db = await TempDatabase.CreateAsync();
        await using var small = new MySqlDataSource(new MySqlConnectionStringBuilder(TestStack.ConnectionString(db.Name))
        {
            MaximumPoolSize = PoolSize,
            ConnectionTimeout = PoolWaitSeconds,
        }.ConnectionString);
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{TestStack.RedisHost}:{TestStack.RedisPort}");
        var lease = await NodeLease.AcquireAsync(redis, new NodeOptions(), "group-unpushed-test", NullLogger.Instance, CancellationToken.None);
        try
        {
            await using var h = await ChatHarness.StartAsync(new MessagingOptions { NodeId = lease.NodeId }, chatDb: small, lease: lease,
                writerDb: db.DataSource);
            var routing = h.Features.Routing ?? throw new InvalidOperationException("a lease composes ClusterDelivery");
            var a = await h.MemberAsync();
            var b = await h.MemberAsync();
            var c = await h.MemberAsync();
            await h.BefriendAllAsync(a, b, c);
            long group = await CreateAsync(a, "unpushed", b, c); // 1 created, 2 member_added: pushed, the group's order starts
            for (int i = 0; i < 2; i++)
                foreach (var m in new[] { b, c }) await Push(m.Device, PushNames.GroupEvent);
            h.Features.Groups.Members.Drop(group); // the writer must read the members from MariaDB after the next commit

            long first;
            var held = new List<MySqlConnection>();
            try
            {
                for (int i = 0; i < PoolSize; i++) held.Add(await small.OpenConnectionAsync());
                // Stored through the writers' own pool; the members read after the commit waits for the request pool and fails.
                first = await SendOk(a.Device, group, "while the pool is held");
            }
            finally
            {
                foreach (var connection in held) await connection.DisposeAsync();
            }
            Assert.Equal(1, h.Features.Groups.Writers.Unpushed);

            // The next entry is pushed; its seq shows the gap, which the order fills from MariaDB after its wait.
            long second = await SendOk(b.Device, group, "after");
            Assert.Equal(first + 1, second);
            Assert.Equal(first, (await Push(c.Device, PushNames.GroupMessage)).Data!.Value.GetProperty("seq").GetInt64());
            Assert.Equal(second, (await Push(c.Device, PushNames.GroupMessage)).Data!.Value.GetProperty("seq").GetInt64());
            Assert.Equal(first, (await Push(b.Device, PushNames.GroupMessage)).Data!.Value.GetProperty("seq").GetInt64());
            Assert.Equal(1, routing.Order.Stats.Filled);
            // The sending device of the filled entry gets the next one only: never its own.
            Assert.Equal(second, (await Push(a.Device, PushNames.GroupMessage)).Data!.Value.GetProperty("seq").GetInt64());
            await NoPush(a.Device, PushNames.GroupMessage);
            await NoPush(b.Device, PushNames.GroupMessage);
        }
        finally
        {
            await lease.DisposeAsync();
        }
    }
}
