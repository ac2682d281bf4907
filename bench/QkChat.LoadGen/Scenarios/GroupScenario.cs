using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using QkChat.Client;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using QkChat.Protocol;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// issue 18 group chat: connections [k * size, (k + 1) * size) are group k (accounts from `qkchatd provision-users
/// --friends groups:SIZE`, so the first user of each block is a friend of the rest). Once every member of a group
/// has logged in (during the ramp), the first creates the group through the protocol (create_group with up to 99
/// others, add_group_members in chunks of 100, then get_group_info for the seq it stands at), and the first
/// --senders-per-group members start sending at --rate. Every member checks each entry into its
/// <see cref="GroupLedger"/>. At the window's end the senders stop; the run waits (until the drain's end at most,
/// <see cref="GroupEndPhases"/>) for the sends in flight and until every member holds every seq a sender was answered,
/// reads each group's max_seq, and lets members that still miss seqs read them (sync_group_messages, in the time kept
/// for it before the deadline): their own unanswered sends are unconfirmed, others' entries are late (stored,
/// not pushed by the end), and every seq up to max_seq that a member still does not hold is lost. Groups never span processes (<see cref="WorkerShare.GroupSplit"/>).
/// </summary>
public sealed class GroupScenario : IScenario
{
    /// <summary>create_group's member_ids here and add_group_members' user_ids: protocol.md §9 takes 1-100 ids in
    /// add_group_members, and the same bound keeps the create request as small.</summary>
    private const int MembersPerRequest = 100;

    /// <summary>sync_group_messages' largest page (protocol.md §9: limit 1-500).</summary>
    private const int SyncPage = 500;

    private static readonly TimeSpan SettlePoll = TimeSpan.FromMilliseconds(20);

    private readonly GroupCounters _counters = new();
    private readonly ChatCounters _logins = new();
    private readonly AckTicker _noAcks = new();   // group entries are not acknowledged: never run
    private readonly List<Task> _sendLoops = [];
    private GroupState[] _groups = [];
    private ConnectionSet? _connections;

    public bool AllAttempted => _connections?.AllAttempted.IsCompleted ?? false;

    public GroupResult? Group { get; private set; }

    public async Task RunAsync(ScenarioContext context)
    {
        int count = context.Share.Connections, size = context.Options.GroupSize;
        _groups = new GroupState[(count + size - 1) / size];
        for (int g = 0; g < _groups.Length; g++) _groups[g] = new GroupState(g, Math.Min(size, count - g * size));

        await using (var connections = _connections = new ConnectionSet(context))
        {
            await connections.StartOpeningAsync((client, i) =>
            {
                GroupState group = _groups[i / size];
                var member = new GroupMember(context, _counters, new ChatUser(context, _logins, _noAcks, client, context.Share.First + i), group);
                Volatile.Write(ref group.Members[i % size], member);
                _ = StartAsync(context, member);
            }).ConfigureAwait(false);

            RunClock clock = context.Clock;
            await Waits.UntilAsync(clock.WindowEndTimestamp, context.HardStop).ConfigureAwait(false);
            Task[] loops;
            lock (_sendLoops) loops = [.. _sendLoops];
            var end = GroupEndPhases.Of(clock);
            await Waits.ForAsync(Task.WhenAll(loops), end.DrainUntil, context.HardStop).ConfigureAwait(false);
            await DrainAsync(end.DrainUntil, context.HardStop).ConfigureAwait(false);
            await ReadMaxSeqsAsync(context).ConfigureAwait(false);
            await SyncMissingAsync(context).ConfigureAwait(false);
            Group = Collect(context);
        }
    }

    /// <summary>Receive loop first, then the login; the last member of a group to log in sets the group up.</summary>
    private async Task StartAsync(ScenarioContext context, GroupMember member)
    {
        _ = member.ReceiveLoopAsync();
        if (!await member.Session.LoginAsync().ConfigureAwait(false)) return;
        if (!member.Group.LoggedIn()) return;
        try
        {
            await SetUpAsync(context, member.Group).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or ChatConnectionClosedException or OperationCanceledException)
        {
            SetupError(context, member.Group.Members[0]!, Actions.CreateGroup, Stopwatch.GetTimestamp(), e is TimeoutException ? "CLIENT_TIMEOUT" : HeartbeatScenario.Unanswered);
        }
    }

    /// <summary>The owner creates the group with every other member, reads the seq it stands at, and the senders start.</summary>
    private async Task SetUpAsync(ScenarioContext context, GroupState group)
    {
        GroupMember owner = group.Members[0]!;
        ChatClient client = owner.Client;
        long[] others = [.. group.Members.Skip(1).Select(m => (long)m!.Session.UserId)];
        string name = string.Create(CultureInfo.InvariantCulture, $"lg-{context.Clock.StartUnixMs}-{context.Share.First / group.Members.Length + group.Index}");

        long started = Stopwatch.GetTimestamp();
        Envelope created = await client.CreateGroupAsync(name, others[..Math.Min(others.Length, MembersPerRequest - 1)], context.HardStop).ConfigureAwait(false);
        if (created.Success != true || created.Data is not { } data || !data.TryGetProperty("group_id", out JsonElement id) || !id.TryGetInt64(out long groupId))
        {
            SetupError(context, owner, Actions.CreateGroup, started, created.Code ?? "NO_GROUP_ID");
            return;
        }
        owner.Session.RecordAction(Actions.CreateGroup, started, null);
        group.GroupId = groupId;
        for (int from = MembersPerRequest - 1; from < others.Length; from += MembersPerRequest)
        {
            started = Stopwatch.GetTimestamp();
            Envelope added = await client.AddGroupMembersAsync(groupId, others[from..Math.Min(others.Length, from + MembersPerRequest)], context.HardStop).ConfigureAwait(false);
            if (added.Success != true)
            {
                SetupError(context, owner, Actions.AddGroupMembers, started, added.Code ?? "NO_CODE");
                return;
            }
            owner.Session.RecordAction(Actions.AddGroupMembers, started, null);
        }
        started = Stopwatch.GetTimestamp();
        long? baseSeq = await MaxSeqAsync(client, groupId, context.HardStop).ConfigureAwait(false);
        if (baseSeq is null)
        {
            SetupError(context, owner, Actions.GetGroupInfo, started, "NO_MAX_SEQ");
            return;
        }
        owner.Session.RecordAction(Actions.GetGroupInfo, started, null);

        // Every ledger starts before the first send: no entry of this run can be pushed before its base is known.
        foreach (GroupMember? m in group.Members) m!.Ledger.Start(baseSeq.Value);
        group.BaseSeq = baseSeq.Value;
        Interlocked.Increment(ref _counters.GroupsReady);
        if (context.Options.SendAfterRamp) await Waits.UntilAsync(context.Clock.RampEndTimestamp, context.HardStop).ConfigureAwait(false);
        if (context.Clock.WindowOver) return;
        int senders = Math.Min(group.Members.Length, context.Options.SendersPerGroup ?? group.Members.Length);
        lock (_sendLoops)
        {
            for (int s = 0; s < senders; s++)
            {
                GroupMember sender = group.Members[s]!;
                _sendLoops.Add(Task.Run(sender.SendLoopAsync));
            }
        }
    }

    private void SetupError(ScenarioContext context, GroupMember owner, string action, long started, string code)
    {
        Interlocked.Increment(ref _counters.SetupErrors);
        context.Stats.Error("SETUP_" + code);
        owner.Session.RecordAction(action, started, code);
    }

    /// <summary>get_group_info's max_seq, or null when it did not answer OK.</summary>
    private static async Task<long?> MaxSeqAsync(ChatClient client, long groupId, CancellationToken ct)
    {
        Envelope info = await client.GetGroupInfoAsync(groupId, ct).ConfigureAwait(false);
        return info.Success == true && info.Data is { } d && d.TryGetProperty("max_seq", out JsonElement m) && m.TryGetInt64(out long seq) ? seq : null;
    }

    /// <summary>Until <paramref name="until"/> at most: every connected member holds every seq a sender was answered.</summary>
    private async Task DrainAsync(long until, CancellationToken ct)
    {
        try
        {
            while (Stopwatch.GetTimestamp() < until && !Drained()) await Task.Delay(SettlePoll, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Hard stop: what is missing now is reported as lost.
        }
    }

    private bool Drained()
    {
        foreach (GroupState group in _groups)
        {
            if (!group.Ready) continue;
            long highest = group.HighestSent;
            foreach (GroupMember? m in group.Members)
                if (m is not null && m.Client.IsConnected && m.Ledger.MissingUpTo(highest) > 0) return false;
        }
        return true;
    }

    /// <summary>Each ready group's max_seq from one of its connected members, all groups at once; a group whose
    /// read fails keeps the highest seq its senders were answered (and is counted).</summary>
    private async Task ReadMaxSeqsAsync(ScenarioContext context)
    {
        await Task.WhenAll(_groups.Where(g => g.Ready).Select(async group =>
        {
            long? max = null;
            if (group.Members.FirstOrDefault(m => m is { Client.IsConnected: true }) is { } reader)
            {
                try
                {
                    max = await MaxSeqAsync(reader.Client, group.GroupId, context.HardStop).ConfigureAwait(false);
                }
                catch (Exception e) when (e is TimeoutException or ChatConnectionClosedException or OperationCanceledException)
                {
                    // Counted below.
                }
            }
            if (max is null) Interlocked.Increment(ref _counters.MaxSeqUnread);
            group.MaxSeq = Math.Max(max ?? 0, group.HighestSent);
        })).ConfigureAwait(false);
    }

    /// <summary>Members that still miss seqs stop counting pushes and read the seqs with sync_group_messages (500 a
    /// page, until the hard stop): an entry of their own whose `sent` answer never came (a timeout) is theirs
    /// (unconfirmed); an entry of another member is late: stored, but not pushed to this member by the end (the
    /// server was behind, or dropped the push). What a finished sync does not return either (never stored at that
    /// seq) stays lost; a member whose sync was refused or not answered by the end never looked: unsynced. Normally no member misses anything and nothing is sent.</summary>
    private async Task SyncMissingAsync(ScenarioContext context)
    {
        var members = _groups.Where(g => g.Ready).SelectMany(g => g.Members.OfType<GroupMember>()
            .Where(m => m.Client.IsConnected && m.Ledger.MissingUpTo(g.MaxSeq) > 0));
        await Task.WhenAll(members.Select(async m =>
        {
            GroupState group = m.Group;
            m.Ledger.Seal();
            long after = (m.Ledger.FirstMissing(group.MaxSeq) ?? group.MaxSeq + 1) - 1;
            try
            {
                while (after < group.MaxSeq)
                {
                    Envelope page = await m.Client.SyncGroupMessagesAsync(group.GroupId, after, SyncPage, context.HardStop).ConfigureAwait(false);
                    if (page.Success != true)
                    {
                        // Refused (SERVER_BUSY, ...): the timeline was not read, so nothing is shown lost by it.
                        m.Ledger.SyncUnfinished();
                        context.Stats.Error("SYNC_" + (page.Code ?? "NO_CODE"));
                        return;
                    }
                    // An answered page without entries: the timeline has nothing more; what is still missing is lost.
                    if (page.Data is not { } data || !data.TryGetProperty("messages", out JsonElement list)
                        || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0) return;
                    foreach (JsonElement entry in list.EnumerateArray())
                    {
                        if (!entry.TryGetProperty("seq", out JsonElement s) || !s.TryGetInt64(out long seq)) return;
                        after = Math.Max(after, seq);
                        bool own = entry.TryGetProperty("sender_id", out JsonElement sender) && sender.TryGetInt64(out long senderId)
                            && senderId == m.Session.UserId;
                        if (own && m.Ledger.Claim(seq)) Interlocked.Increment(ref _counters.Unconfirmed);
                        else if (!own) m.Ledger.LateFound(seq);
                    }
                }
            }
            catch (Exception e) when (e is TimeoutException or ChatConnectionClosedException or OperationCanceledException)
            {
                // Not answered by the hard stop, or the connection closed: what is still missing was not looked for. An
                // error of the run (it fails it), and counted unsynced rather than lost.
                m.Ledger.SyncUnfinished();
                context.Stats.Error(e is TimeoutException ? "SYNC_CLIENT_TIMEOUT" : "SYNC_" + HeartbeatScenario.Unanswered);
            }
        })).ConfigureAwait(false);
    }

    private GroupResult Collect(ScenarioContext context)
    {
        var result = new GroupResult
        {
            Groups = _groups.Length,
            GroupSize = context.Options.GroupSize,
            SendersPerGroup = context.Options.SendersPerGroup ?? context.Options.GroupSize,
            RatePerSender = context.Options.Rate,
            MessageBytes = context.Options.MessageBytes,
            GroupsReady = Interlocked.Read(ref _counters.GroupsReady),
            SetupErrors = Interlocked.Read(ref _counters.SetupErrors),
            MaxSeqUnread = Interlocked.Read(ref _counters.MaxSeqUnread),
            LoginsOk = Interlocked.Read(ref _logins.LoginsOk),
            Sent = Interlocked.Read(ref _counters.Sent),
            SentOk = Interlocked.Read(ref _counters.SentOk),
            SentOkWindow = Interlocked.Read(ref _counters.SentOkWindow),
            SendErrors = Interlocked.Read(ref _counters.SendErrors),
            BusyRetries = Interlocked.Read(ref _counters.BusyRetries),
            DeliveredWindow = Interlocked.Read(ref _counters.DeliveredWindow),
            Stale = Interlocked.Read(ref _counters.Stale),
            Unconfirmed = Interlocked.Read(ref _counters.Unconfirmed),
            DeliveryHistogramPairs = HistogramCodec.ToPairs(_counters.DeliveryLatency),
            LastMemberHistogramPairs = HistogramCodec.ToPairs(_counters.LastMemberLatency),
        };
        foreach (GroupState group in _groups)
        {
            if (!group.Ready) continue;
            result.Entries += group.MaxSeq - group.BaseSeq;
            foreach (GroupMember? m in group.Members)
            {
                if (m is null) continue;
                result.Delivered += m.Ledger.Delivered;
                result.Duplicates += m.Ledger.Duplicates;
                result.OutOfOrder += m.Ledger.OutOfOrder;
                result.Lost += m.Ledger.Lost(group.MaxSeq);
                result.Unsynced += m.Ledger.Unsynced(group.MaxSeq);
                result.Late += m.Ledger.Late;
                result.InboxDropped += m.Client.DroppedUnsolicited;
            }
        }
        return result;
    }
}
