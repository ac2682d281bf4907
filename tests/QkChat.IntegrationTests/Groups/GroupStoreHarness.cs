using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Groups;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Groups;
using QkChat.Server.Storage;

namespace QkChat.IntegrationTests.Groups;

/// <summary>
/// The group store on a throwaway, migrated MariaDB database. Users are rows inserted directly (the store only joins
/// their names); message ids come from a counter, as the server's minter would hand them out, unique and rising.
/// </summary>
internal sealed class GroupStoreHarness : IAsyncDisposable
{
    private static long s_nextUser = 100_000_000;
    private long _nextMessageId = 1_000_000;

    private GroupStoreHarness(TempDatabase db)
    {
        Db = db;
        Store = new MySqlGroupStore(db.DataSource);
    }

    public TempDatabase Db { get; }
    public MySqlGroupStore Store { get; }

    public static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    public static async Task<GroupStoreHarness> StartAsync()
    {
        var db = await TempDatabase.CreateAsync();
        await new Migrator(db.DataSource, Migration.Embedded(), NullLogger.Instance).MigrateAsync(CancellationToken.None);
        return new GroupStoreHarness(db);
    }

    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Inserts <paramref name="count"/> users and returns their ids in ascending order.</summary>
    public async Task<uint[]> UsersAsync(int count)
    {
        var ids = Enumerable.Range(0, count).Select(_ => (uint)Interlocked.Increment(ref s_nextUser)).ToArray();
        string values = string.Join(',', ids.Select(id => string.Create(CultureInfo.InvariantCulture,
            $"({id}, 'u{id}', 'u{id}@example.org', 'x', 0, 0)")));
        await Db.ExecuteAsync($"INSERT INTO users (user_id, username, email, password_hash, created_at, updated_at) VALUES {values}");
        return ids;
    }

    public long NextMessageId() => Interlocked.Increment(ref _nextMessageId);

    public EntryStamp Stamp() => new(NextMessageId(), Now);

    public NewGroupEntry Text(long groupId, uint sender, string content, string? clientMsgId = null) =>
        new(groupId, sender, NextMessageId(), clientMsgId, content, Now);

    /// <summary>A group of <paramref name="owner"/> with <paramref name="members"/>: entries 1 (created) and 2 (member_added) when any.</summary>
    public async Task<long> GroupAsync(uint owner, params uint[] members) =>
        (await Store.CreateAsync(owner, "g" + owner, members, Stamp(), Stamp(), Now, Ct)).GroupId;

    /// <summary>Every seq stored for the group, ascending, read from the table itself.</summary>
    public async Task<long[]> SeqsAsync(long groupId)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync(Ct);
        await using var command = new MySqlConnector.MySqlCommand($"SELECT seq FROM chat_group_entries WHERE group_id = {groupId} ORDER BY seq", connection);
        var list = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct)) list.Add(reader.GetInt64(0));
        return [.. list];
    }

    public Task<long> MaxSeqAsync(long groupId) => Db.ScalarAsync($"SELECT max_seq FROM chat_groups WHERE group_id = {groupId}");

    public async Task<GroupSummary> SummaryAsync(uint user, long groupId) =>
        Xunit.Assert.Single(await Store.MyGroupsAsync(user, Ct), s => s.GroupId == groupId);

    public ValueTask DisposeAsync() => Db.DisposeAsync();
}
