using System.Diagnostics;
using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// The pair scenario's end of run for acknowledgements (docs/loadgen.md "chat", step 7): the `message_ack` requests
/// still unanswered when the settle ends get until the deadline, which chat and mixed put <see cref="TailSeconds"/>
/// after the grace, before the connections close. qkchatd answers an ack when its batch is stored, in request order
/// behind the connection's sends (MessagingService.MessageAck), so a server still working off an unpaced window
/// answers the acks of its last pushes seconds after the window; closing at the settle's end counted them as
/// ACK_CLIENT_UNANSWERED_AT_DEADLINE. An ack still unanswered at the deadline still is one, and fails the run: the
/// wait is bounded, the verdict unchanged. The acks of connections the server dropped are not waited for (the drop
/// is counted).
/// </summary>
public sealed class PairAckWait
{
    /// <summary>How often the wait looks whether every ack is answered (the settle's poll).</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <summary>The most the tail after the grace may be: the group scenario's default --drain-seconds (30 s).</summary>
    public const double MaxTailSeconds = 30;

    private long _outstanding, _unanswered;

    /// <summary>The time chat and mixed keep after the 5 s grace: --request-timeout less the grace (5 s with the default
    /// 10 s), so an ack sent at the window's last instant has its full request timeout before the run calls it
    /// unanswered (the sweep fails any ack older than that as ACK_CLIENT_TIMEOUT anyway); at most <see cref="MaxTailSeconds"/>.</summary>
    public static double TailSeconds(double requestTimeoutSeconds) =>
        Math.Clamp(requestTimeoutSeconds - RunClock.Grace.TotalSeconds, 0, MaxTailSeconds);

    /// <summary>Acks unanswered on connected users when the wait began.</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    /// <summary>Of those and of any sent during the wait, the ones still unanswered when it ended: closing the
    /// connections counts each as ACK_CLIENT_UNANSWERED_AT_DEADLINE unless its answer slips in first.</summary>
    public long Unanswered => Interlocked.Read(ref _unanswered);

    /// <summary>Of <see cref="Outstanding"/>, answered during the wait (ok or with an error code).</summary>
    public long AnsweredInWait => Math.Max(0, Outstanding - Unanswered);

    /// <summary>Waits until every connected user of <paramref name="users"/> has nothing left to acknowledge and no
    /// acknowledgement unanswered, or until <paramref name="until"/> (a Stopwatch timestamp), or the hard stop.</summary>
    public async Task RunAsync(IReadOnlyList<ChatUser?> users, long until, CancellationToken hardStop)
    {
        Interlocked.Exchange(ref _outstanding, InFlight(users));
        try
        {
            while (Stopwatch.GetTimestamp() < until && !Settled(users)) await Task.Delay(Poll, hardStop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The deadline: what is unanswered now is counted as such when the connections close.
        }
        Interlocked.Exchange(ref _unanswered, InFlight(users));
    }

    private static bool Settled(IReadOnlyList<ChatUser?> users)
    {
        foreach (ChatUser? user in users)
            if (user is not null && user.Client.IsConnected && !user.AcksSettled) return false;
        return true;
    }

    private static long InFlight(IReadOnlyList<ChatUser?> users)
    {
        long n = 0;
        foreach (ChatUser? user in users)
            if (user is not null && user.Client.IsConnected) n += user.AcksInFlight;
        return n;
    }
}
