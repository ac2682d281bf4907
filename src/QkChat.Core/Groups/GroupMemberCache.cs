using System.Collections.Concurrent;
using QkChat.Core.Routing;

namespace QkChat.Core.Groups;

/// <summary>
/// Each active group's current members (ids, roles, joined seqs), for the fan-out and the checks before an action,
/// so that an entry of a busy group costs no query to find its receivers. Every action that changes membership or
/// roles brackets its store call with <see cref="BeginChange"/> and <see cref="EndChange"/>: while one is under way
/// the group is read from MariaDB each time (never from the cache), and a load that overlapped a change is not kept
/// (a version per group), so after a removal commits no fan-out uses the membership from before it. Entries are
/// stored and fanned out by one writer per node, after their commit, so an entry stored after a removal is fanned
/// out with a membership read after it. Several nodes: <see cref="EndChange"/> tells the others through
/// <see cref="Notices"/>, which drop their copy (<see cref="Drop"/>; docs/cluster.md, "Caches").
/// <c>load</c> is <see cref="IGroupStore.MembershipAsync"/>; <c>loadMany</c>, when given, is
/// <see cref="IGroupStore.MembershipsAsync"/>: the writer's batch over hundreds of groups reads all the groups it misses
/// with one query (<see cref="MembersOfAsync"/>) instead of one query per group, one after another.
/// </summary>
public sealed class GroupMemberCache(Func<long, CancellationToken, Task<GroupMembership>> load, int maxGroups = GroupMemberCache.DefaultMaxGroups,
    Func<IReadOnlyList<long>, CancellationToken, Task<IReadOnlyDictionary<long, GroupMembership>>>? loadMany = null)
{
    /// <summary>Groups kept before idle ones are dropped: 100,000 groups of 10 members take about 25 MB.</summary>
    public const int DefaultMaxGroups = 100_000;

    private readonly ConcurrentDictionary<long, Slot> _groups = new();

    private sealed class Slot
    {
        public int Version;
        public int Changing;
        public GroupMembership? Members;
    }

    public int Count => _groups.Count;

    /// <summary>The group's current members; empty for an unknown or dissolved group.</summary>
    public ValueTask<GroupMembership> MembersAsync(long groupId, CancellationToken ct)
    {
        var slot = SlotOf(groupId);
        int version;
        lock (slot)
        {
            if (slot.Changing == 0 && slot.Members is { } members) return ValueTask.FromResult(members);
            version = slot.Version;
        }
        return new ValueTask<GroupMembership>(LoadAsync(groupId, slot, version, ct));
    }

    /// <summary>
    /// The current members of each of <paramref name="groupIds"/> into <paramref name="into"/>: cached groups from memory,
    /// all the others with one load (one query), kept under the same rule as <see cref="MembersAsync"/> (a group whose
    /// change began or ended while it was read is answered, not kept). Throws when that load fails.
    /// </summary>
    public async Task MembersOfAsync(IEnumerable<long> groupIds, Dictionary<long, GroupMembership> into, CancellationToken ct)
    {
        List<(long Group, Slot Slot, int Version)>? missed = null;
        HashSet<long>? asked = null;
        foreach (long groupId in groupIds)
        {
            if (into.ContainsKey(groupId) || asked?.Contains(groupId) == true) continue;
            var slot = SlotOf(groupId);
            lock (slot)
            {
                if (slot.Changing == 0 && slot.Members is { } members)
                {
                    into[groupId] = members;
                    continue;
                }
                (missed ??= []).Add((groupId, slot, slot.Version));
                (asked ??= []).Add(groupId);
            }
        }
        if (missed is null) return;
        if (loadMany is null || missed.Count == 1)
        {
            foreach (var (group, slot, version) in missed) into[group] = await LoadAsync(group, slot, version, ct);
            return;
        }
        var loaded = await loadMany([.. missed.Select(m => m.Group)], ct);
        foreach (var (group, slot, version) in missed)
        {
            var members = loaded.GetValueOrDefault(group) ?? GroupMembership.Empty;
            lock (slot)
            {
                if (slot.Version == version && slot.Changing == 0) slot.Members = members;
            }
            into[group] = members;
        }
    }

    private async Task<GroupMembership> LoadAsync(long groupId, Slot slot, int version, CancellationToken ct)
    {
        var members = await load(groupId, ct);
        lock (slot)
        {
            if (slot.Version == version && slot.Changing == 0) slot.Members = members;
        }
        return members;
    }

    /// <summary>Before a change of the group's members or roles is stored: reads go to MariaDB until it ends.</summary>
    public void BeginChange(long groupId)
    {
        var slot = SlotOf(groupId);
        lock (slot)
        {
            slot.Changing++;
            slot.Version++;
            slot.Members = null;
        }
    }

    /// <summary>After the change committed or failed (always, in a finally); the other nodes drop their copy: the task
    /// completes when they were told (await it before answering).</summary>
    public Task EndChange(long groupId)
    {
        var slot = SlotOf(groupId);
        lock (slot)
        {
            slot.Changing--;
            slot.Version++;
            slot.Members = null;
        }
        return Notices?.Changed(CachedRelation.GroupMembers, groupId, 0) ?? Task.CompletedTask;
    }

    /// <summary>Where a change is told to the other nodes (null: one node).</summary>
    public ICacheNotices? Notices { get; set; }

    /// <summary>Another node changed the group: the next read goes to MariaDB (a load under way is not kept).</summary>
    public void Drop(long groupId)
    {
        if (!_groups.TryGetValue(groupId, out var slot)) return;
        lock (slot)
        {
            slot.Version++;
            slot.Members = null;
        }
    }

    /// <summary>Every group (notices may have been missed while the link to the other nodes was down).</summary>
    public void Clear()
    {
        foreach (var (_, slot) in _groups)
            lock (slot)
            {
                slot.Version++;
                slot.Members = null;
            }
    }

    private Slot SlotOf(long groupId)
    {
        if (_groups.TryGetValue(groupId, out var slot)) return slot;
        if (_groups.Count >= maxGroups) DropIdle();
        return _groups.GetOrAdd(groupId, static _ => new Slot());
    }

    /// <summary>
    /// Forgets the groups no change is under way in. A load still running stores into its forgotten slot, which
    /// nobody reads; a group in a change keeps its slot, so its bracket stays whole.
    /// </summary>
    private void DropIdle()
    {
        foreach (var (id, slot) in _groups)
        {
            lock (slot)
            {
                if (slot.Changing == 0) _groups.TryRemove(id, out _);
            }
        }
    }
}
