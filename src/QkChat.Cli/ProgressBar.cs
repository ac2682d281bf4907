using System.Globalization;

namespace QkChat.Cli;

/// <summary>
/// A transfer's progress: at a terminal one line redrawn in place ("sending x.bin [#####.....] 52%  52.0/100.0 MiB
/// 31.4 MB/s"), at most ten times a second; elsewhere (a pipe, a script, a test) a plain line at each tenth, so a log
/// stays short and readable. The total may be learned late (a download's first answer).
/// </summary>
internal sealed class ProgressBar(LineOutput output, string label, long total, TimeProvider clock)
{
    private const int Width = 30;

    /// <summary>Redraws per second at most: enough to look live, few enough that a fast transfer does not flood the terminal.</summary>
    private static readonly TimeSpan RedrawEvery = TimeSpan.FromMilliseconds(100);

    private readonly long _started = clock.GetTimestamp();
    private long _lastDrawn = long.MinValue;
    private int _tenthsShown = -1;
    private long _total = total;
    private long _done;

    public void Show(long done, long total = 0)
    {
        if (total > 0) _total = total;
        _done = done;
        if (output.Terminal)
        {
            long now = clock.GetTimestamp();
            if (_lastDrawn != long.MinValue && clock.GetElapsedTime(_lastDrawn, now) < RedrawEvery && done < _total) return;
            _lastDrawn = now;
            output.Status(Text());
            return;
        }
        if (_total <= 0) return;
        int tenths = (int)(done * 10 / _total);
        if (tenths <= _tenthsShown) return;
        _tenthsShown = tenths;
        output.Line(Text());
    }

    /// <summary>Ends the bar: at a terminal the last state stays as a line of its own.</summary>
    public void Done()
    {
        if (!output.Terminal) return;
        string last = Text();
        output.Status(null);
        output.Line(last);
    }

    private string Text()
    {
        double seconds = Math.Max(clock.GetElapsedTime(_started).TotalSeconds, 0.001);
        string rate = (_done / seconds / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " MB/s";
        if (_total <= 0) return $"{label} {Session.Bytes(_done)}  {rate}";
        int filled = (int)(Width * Math.Min(_done, _total) / _total);
        long percent = _done * 100 / _total;
        return $"{label} [{new string('#', filled)}{new string('.', Width - filled)}] {percent,3}%  {Session.Bytes(_done)}/{Session.Bytes(_total)}  {rate}";
    }
}
