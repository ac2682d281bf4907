using QkChat.Core.Groups;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>protocol.md §9's role table, one row per pair: who may act on whom in a chat group.</summary>
public sealed class GroupRulesTests
{
    private const GroupRole O = GroupRole.Owner, A = GroupRole.Admin, M = GroupRole.Member;

    [Theory]
    [InlineData(O, A, true)]
    [InlineData(O, M, true)]
    [InlineData(O, O, false)] // the owner leaves or transfers instead
    [InlineData(A, M, true)]
    [InlineData(A, A, false)] // admins cannot remove admins
    [InlineData(A, O, false)]
    [InlineData(M, M, false)]
    public void Remove(GroupRole actor, GroupRole target, bool allowed) => Assert.Equal(allowed, GroupRules.CanRemove(actor, target));

    [Theory]
    [InlineData(O, M, A, true)]
    [InlineData(O, A, M, true)]
    [InlineData(O, M, O, false)] // ownership moves only by transfer
    [InlineData(O, O, A, false)]
    [InlineData(A, M, A, false)]
    [InlineData(M, M, A, false)]
    public void Set_role(GroupRole actor, GroupRole target, GroupRole role, bool allowed) => Assert.Equal(allowed, GroupRules.CanSetRole(actor, target, role));

    [Fact]
    public void Add_rename_transfer_dissolve_and_leave()
    {
        Assert.Equal([true, true, false], new[] { O, A, M }.Select(GroupRules.CanAddMembers));
        Assert.Equal([true, true, false], new[] { O, A, M }.Select(GroupRules.CanRename));
        Assert.Equal([true, false, false], new[] { O, A, M }.Select(GroupRules.CanTransfer));
        Assert.Equal([true, false, false], new[] { O, A, M }.Select(GroupRules.CanDissolve));
        Assert.False(GroupRules.CanLeave(O, 2));
        Assert.True(GroupRules.CanLeave(O, 1));
        Assert.True(GroupRules.CanLeave(A, 5));
        Assert.True(GroupRules.CanLeave(M, 5));
    }

    [Fact]
    public void Recall_is_the_senders_within_the_window_or_owner_and_admins_at_any_time()
    {
        const long sent = 1_000_000;
        long late = sent + GroupRules.RecallWindowMs + 1;
        Assert.Equal(GroupRecallResult.Recalled, GroupRules.CanRecall(M, 7, 7, sent, sent + GroupRules.RecallWindowMs));
        Assert.Equal(GroupRecallResult.WindowExpired, GroupRules.CanRecall(M, 7, 7, sent, late));
        Assert.Equal(GroupRecallResult.Forbidden, GroupRules.CanRecall(M, 7, 8, sent, sent));
        Assert.Equal(GroupRecallResult.Recalled, GroupRules.CanRecall(A, 7, 8, sent, late));
        Assert.Equal(GroupRecallResult.Recalled, GroupRules.CanRecall(O, 7, 8, sent, late));
    }
}
