using System.Diagnostics;
using System.Text.Json;
using QkChat.Client;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Run;
using QkChat.Protocol;
using QkChat.Tests.Client;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>
/// The keepalive (bench/QkChat.LoadGen/Run/Keepalive.cs, docs/loadgen.md "Keepalive"): which connections a scan
/// heartbeats, and that its heartbeats are counted apart from the scenario's requests. Scans are given their "now"
/// explicitly, so nothing here waits for time to pass; a real client talks to a scripted server.
/// </summary>
public sealed class KeepaliveTests
{
    private static readonly long Interval = RunClock.ToTicks(20);

    [Fact]
    public void A_connection_is_due_once_it_has_been_silent_for_the_interval()
    {
        Assert.False(Keepalive.IsDue(now: 1_000, lastWrite: 1_000, Interval));
        Assert.False(Keepalive.IsDue(now: 1_000 + Interval - 1, lastWrite: 1_000, Interval));
        Assert.True(Keepalive.IsDue(now: 1_000 + Interval, lastWrite: 1_000, Interval));
        Assert.True(Keepalive.IsDue(now: 1_000 + 3 * Interval, lastWrite: 1_000, Interval));
    }

    [Fact]
    public void It_scans_four_times_per_interval()
    {
        var keepalive = new Keepalive([], 20, TimeSpan.FromSeconds(10), new RunStats(), CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(5), keepalive.Tick);
    }

    [Fact]
    public void The_default_is_a_third_of_the_servers_idle_timeout_and_applies_to_the_scenarios_that_log_in()
    {
        LoadGenOptions chat = OptionParser.Parse(["chat", "--password", "pw"])!;
        Assert.Equal(20, chat.KeepaliveSeconds);
        Assert.True(chat.KeepsAlive);
        Assert.True(OptionParser.Parse(["group", "--password", "pw"])!.KeepsAlive);
        Assert.True(OptionParser.Parse(["mixed", "--password", "pw"])!.KeepsAlive);
        Assert.False(OptionParser.Parse(["chat", "--password", "pw", "--keepalive", "0"])!.KeepsAlive);
        Assert.Equal(2.5, OptionParser.Parse(["group", "--password", "pw", "--keepalive", "2.5"])!.KeepaliveSeconds);
        // connect measures idle connections (its own --heartbeat-interval); heartbeat is never silent; login-storm
        // waits before logging in, where the login timeout applies.
        Assert.False(OptionParser.Parse(["connect"])!.KeepsAlive);
        Assert.False(OptionParser.Parse(["heartbeat"])!.KeepsAlive);
        Assert.False(OptionParser.Parse(["login-storm", "--password", "pw"])!.KeepsAlive);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_silent_connection_gets_one_heartbeat_counted_apart_from_the_scenarios_requests()
    {
        await using Pair pair = await Pair.OpenAsync();
        var stats = new RunStats();
        using var stop = new CancellationTokenSource();
        var keepalive = new Keepalive([pair.Client], 20, TimeSpan.FromSeconds(30), stats, stop.Token);
        long opened = pair.Client.LastWriteTimestamp;

        Assert.Equal(0, keepalive.Scan(opened + Interval - 1));   // not silent long enough
        Assert.Equal(1, keepalive.Scan(opened + Interval));
        JsonElement beat = await pair.Connection.ReadRequestAsync();
        Assert.Equal(Actions.Heartbeat, beat.GetProperty("action").GetString());
        // Its heartbeat unanswered, the connection gets no second one however long it stays silent.
        Assert.Equal(0, keepalive.Scan(opened + 10 * Interval));
        Assert.Equal(1, stats.KeepaliveSent);

        await pair.Connection.SendAsync(FakeConnection.ResponseTo(beat, """{"server_time":1}"""));
        await Until(() => stats.KeepaliveOk == 1);
        Assert.Equal(0, stats.KeepaliveFailed);
        // The heartbeat was a write: the silence starts again from it.
        long beatWritten = pair.Client.LastWriteTimestamp;
        Assert.True(beatWritten > opened);
        Assert.Equal(0, keepalive.Scan(beatWritten + Interval - 1));
        // Not one of the scenario's requests: no round trip, no error.
        Assert.Equal(0, stats.RoundTripsAll);
        Assert.Equal(0, stats.Errors);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_connection_writing_or_waiting_for_its_own_answer_gets_none()
    {
        await using Pair pair = await Pair.OpenAsync();
        var stats = new RunStats();
        var keepalive = new Keepalive([null, pair.Client], 20, TimeSpan.FromSeconds(30), stats, CancellationToken.None);

        // A login in flight (the server holds its answer): the connection is not idle, and a heartbeat would queue behind it.
        Task<Envelope> login = pair.Client.RequestAsync(Actions.Login, timeout: TimeSpan.FromSeconds(30), ct: TestContext.Current.CancellationToken);
        JsonElement request = await pair.Connection.ReadRequestAsync();
        Assert.Equal(0, keepalive.Scan(pair.Client.LastWriteTimestamp + 10 * Interval));

        await pair.Connection.SendAsync(FakeConnection.ResponseTo(request, """{"user_id":7}"""));
        await login;
        // A raw write (the chat scenario's sends and acks) counts as activity like any request.
        await pair.Client.SendRawAsync(FakeConnection.Frame("""{"action":"heartbeat","request_id":"x"}"""), TestContext.Current.CancellationToken);
        Assert.Equal(0, keepalive.Scan(pair.Client.LastWriteTimestamp + Interval - 1));
        Assert.Equal(0, stats.KeepaliveSent);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_heartbeat_left_unanswered_past_its_timeout_counts_as_failed()
    {
        await using Pair pair = await Pair.OpenAsync();
        var stats = new RunStats();
        var keepalive = new Keepalive([pair.Client], 20, TimeSpan.FromMilliseconds(100), stats, CancellationToken.None);

        Assert.Equal(1, keepalive.Scan(pair.Client.LastWriteTimestamp + Interval));
        await pair.Connection.ReadRequestAsync();   // never answered
        await Until(() => stats.KeepaliveFailed == 1);
        Assert.Equal(0, stats.KeepaliveOk);
        Assert.Equal(0, stats.Errors);
        // Settled, so the connection may heartbeat again.
        Assert.Equal(1, keepalive.Scan(pair.Client.LastWriteTimestamp + Interval));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_closed_connection_gets_none()
    {
        Pair pair = await Pair.OpenAsync();
        var stats = new RunStats();
        var keepalive = new Keepalive([pair.Client], 20, TimeSpan.FromSeconds(30), stats, CancellationToken.None);
        await pair.DisposeAsync();
        Assert.Equal(0, keepalive.Scan(Stopwatch.GetTimestamp() + 10 * Interval));
    }

    /// <summary>Waits for <paramref name="condition"/> (the client's read loop settles the heartbeat on its own thread);
    /// the bound only keeps a broken build from hanging.</summary>
    private static async Task Until(Func<bool> condition)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition()) await Task.Delay(10, patience.Token);
    }
}
