using System.Diagnostics;
using QkChat.LoadGen.Results;

namespace QkChat.LoadGen.Run;

/// <summary>
/// This process's own CPU time (utime + stime from /proc/self/stat) over the measured window: samples at the window's
/// start and end, or at the moment the result is asked for if the scenario ended first (login-storm). Every process
/// of a run measures itself and the coordinator sums them, so the generator's cost per message is known and not
/// mistaken for the server's.
/// </summary>
public sealed class CpuWindow
{
    private readonly Task<(double Cpu, long At)?> _start, _end;

    public CpuWindow(RunClock clock, CancellationToken hardStop)
    {
        _start = SampleAtAsync(clock.RampEndTimestamp, hardStop);
        _end = SampleAtAsync(clock.WindowEndTimestamp, hardStop);
    }

    private static async Task<(double Cpu, long At)?> SampleAtAsync(long timestamp, CancellationToken ct)
    {
        await Waits.UntilAsync(timestamp, ct).ConfigureAwait(false);
        return ct.IsCancellationRequested ? null : Now();
    }

    private static (double Cpu, long At)? Now() =>
        ProcSampler.Sample(null, "self", 0) is { } s ? (s.CpuSeconds, Stopwatch.GetTimestamp()) : null;

    /// <summary>The window's cost, or null when /proc is not readable or the window never began.</summary>
    public async Task<GeneratorCost?> ResultAsync()
    {
        if (!_start.IsCompleted || await _start.ConfigureAwait(false) is not { } start) return null;
        (double Cpu, long At)? end = _end.IsCompleted ? await _end.ConfigureAwait(false) : Now();
        if (end is not { } e) return null;
        return new GeneratorCost
        {
            Processes = 1,
            CpuSeconds = e.Cpu - start.Cpu,
            WindowSeconds = Math.Round((e.At - start.At) / (double)Stopwatch.Frequency, 3),
        };
    }
}
