using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using HdrHistogram;
using QkChat.LoadGen.Results;
using QkChat.Protocol;

namespace QkChat.LoadGen.Run;

/// <summary>
/// Per protocol action: requests answered, OK answers, errors by code and latency. The chat and mixed scenarios
/// record into it (login, send_message, message_ack and the mixed blend's actions), so the report can show each
/// action's latency and errors, and the summary table its login and send response.
/// </summary>
public sealed class ActionStats
{
    /// <summary>Actions whose latency is timed over the whole run, not only inside the window: logins happen during
    /// the ramp, and "login response" is what the summary table shows for them.</summary>
    private static readonly string[] WholeRun = [Actions.Login];

    private readonly ConcurrentDictionary<string, ActionCounter> _actions = new(StringComparer.Ordinal);

    public ActionCounter For(string action) =>
        _actions.GetOrAdd(action, static a => new ActionCounter(WholeRun.Contains(a)));

    /// <summary>One outcome: <paramref name="error"/> is null for an OK answer.</summary>
    public void Record(string action, long micros, string? error, bool inWindow) => For(action).Record(micros, error, inWindow);

    public Dictionary<string, ActionResult> ToResults() =>
        _actions.ToDictionary(p => p.Key, p => p.Value.ToResult(), StringComparer.Ordinal);
}

public sealed class ActionCounter(bool timeWholeRun)
{
    private readonly ConcurrentDictionary<string, StrongBox<long>> _errors = new(StringComparer.Ordinal);
    private readonly LongConcurrentHistogram _latency = RunStats.NewHistogram();
    private long _requests, _ok, _answeredWindow, _okWindow;

    public void Record(long micros, string? error, bool inWindow)
    {
        Interlocked.Increment(ref _requests);
        if (inWindow) Interlocked.Increment(ref _answeredWindow);
        if (error is not null)
        {
            Interlocked.Increment(ref _errors.GetOrAdd(error, static _ => new StrongBox<long>()).Value);
            return;
        }
        Interlocked.Increment(ref _ok);
        if (inWindow) Interlocked.Increment(ref _okWindow);
        if (inWindow || timeWholeRun) _latency.RecordValue(Math.Clamp(micros, 1, RunStats.HighestTrackableMicros));
    }

    public ActionResult ToResult() => new()
    {
        Requests = Interlocked.Read(ref _requests),
        Ok = Interlocked.Read(ref _ok),
        AnsweredWindow = Interlocked.Read(ref _answeredWindow),
        OkWindow = Interlocked.Read(ref _okWindow),
        Errors = _errors.ToDictionary(p => p.Key, p => Interlocked.Read(ref p.Value.Value), StringComparer.Ordinal),
        HistogramPairs = HistogramCodec.ToPairs(_latency),
    };
}
