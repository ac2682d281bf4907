using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using QkChat.Core.Friends;
using QkChat.Core.Groups;
using QkChat.Core.Routing;
using StackExchange.Redis;
using ZLogger;

namespace QkChat.Server.Cluster;

/// <summary>
/// <see cref="ICacheNotices"/> through Redis (docs/cluster.md, "Caches"): a node that changed a friendship, a block or a
/// group's members publishes one small notice on <see cref="Channel"/>, which every node subscribes to; the others drop
/// their cached copy, so the next request they handle reads MariaDB. The publish is fire-and-forget on the multiplexer's
/// connection (queued before the change's answer is written, never waited on a reactor). Pub/sub loses a notice only
/// with the subscription connection, and when that comes back every cache here is cleared.
/// </summary>
public sealed partial class CacheNoticeChannel : ICacheNotices, IAsyncDisposable
{
    /// <summary>One plain channel for the whole deployment: changes of relations are rare next to messages.</summary>
    public static readonly RedisChannel Channel = RedisChannel.Literal("qk:caches:changed");

    // version 1, sender node, relation, first id, second id: 19 bytes.
    private const byte Version = 1;
    private const int NoticeBytes = 3 + 8 + 8;

    private readonly IConnectionMultiplexer _redis;
    private readonly int _node;
    private readonly FriendSetCache _friends;
    private readonly BlockSetCache _blocks;
    private readonly GroupMemberCache _groups;
    private readonly ILogger _logger;
    private ChannelMessageQueue? _queue;
    private long _published, _received, _failed;

    public CacheNoticeChannel(IConnectionMultiplexer redis, int node, FriendSetCache friends, BlockSetCache blocks, GroupMemberCache groups, ILogger logger)
    {
        _redis = redis;
        _node = node;
        _friends = friends;
        _blocks = blocks;
        _groups = groups;
        _logger = logger;
    }

    public long Published => Interlocked.Read(ref _published);
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Subscribes and plugs itself into the caches; before the listener accepts anyone.</summary>
    public async Task StartAsync()
    {
        _queue = await _redis.GetSubscriber().SubscribeAsync(Channel);
        _queue.OnMessage(OnNotice);
        _redis.ConnectionRestored += OnRestored;
        _friends.Notices = this;
        _blocks.Notices = this;
        _groups.Notices = this;
    }

    public async Task Changed(CachedRelation relation, long first, long second)
    {
        var notice = new byte[NoticeBytes];
        notice[0] = Version;
        notice[1] = (byte)_node;
        notice[2] = (byte)relation;
        BinaryPrimitives.WriteInt64LittleEndian(notice.AsSpan(3), first);
        BinaryPrimitives.WriteInt64LittleEndian(notice.AsSpan(11), second);
        try
        {
            // Awaited: when Redis answers it has handed the notice to every subscribed node, before this change's answer.
            await _redis.GetSubscriber().PublishAsync(Channel, notice);
            Interlocked.Increment(ref _published);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Redis is away: the other nodes lose their subscription too and clear their caches when it comes back.
            if (Interlocked.Increment(ref _failed) == 1) LogPublishFailed(_logger, e.Message);
        }
    }

    private void OnNotice(ChannelMessage message)
    {
        byte[]? bytes = message.Message;
        if (bytes is not { Length: NoticeBytes } || bytes[0] != Version || bytes[1] == _node) return;
        Interlocked.Increment(ref _received);
        long first = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(3)), second = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(11));
        switch ((CachedRelation)bytes[2])
        {
            case CachedRelation.Friends:
                _friends.Drop((uint)first, (uint)second);
                break;
            case CachedRelation.Blocks:
                _blocks.Drop((uint)first, (uint)second);
                break;
            case CachedRelation.GroupMembers:
                _groups.Drop(first);
                break;
        }
    }

    /// <summary>The link to Redis came back: notices of the gap are lost, so everything cached here goes.</summary>
    private void OnRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Subscription) return;
        _friends.Clear();
        _blocks.Clear();
        _groups.Clear();
        LogCleared(_logger);
    }

    public async ValueTask DisposeAsync()
    {
        _redis.ConnectionRestored -= OnRestored;
        _friends.Notices = _blocks.Notices = null;
        _groups.Notices = null;
        try
        {
            if (_queue is not null) await _queue.UnsubscribeAsync();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
        }
    }

    [ZLoggerMessage(LogLevel.Warning, "cache notices: a change was not told to the other nodes (Redis): {error}")]
    private static partial void LogPublishFailed(ILogger logger, string error);

    [ZLoggerMessage(LogLevel.Information, "cache notices: Redis subscription restored: friend, block and group caches cleared")]
    private static partial void LogCleared(ILogger logger);
}
