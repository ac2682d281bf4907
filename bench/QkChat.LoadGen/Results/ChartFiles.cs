using System.Globalization;

namespace QkChat.LoadGen.Results;

/// <summary>Writes a result's two charts as SVG files: BASE-latency.svg (per second p50 and p99 of the headline
/// latency) and BASE-percentiles.svg (the distributions).</summary>
public static class ChartFiles
{
    public static SvgChart.Series[] TimelineSeries(RunResult r)
    {
        List<TimelinePoint> points = r.LatencyOverTime ?? [];
        // A second's value is drawn at its middle: the first second covers 0-1 s of the window.
        return
        [
            new("p50", [.. points.Select(p => (p.Second + 0.5, p.P50Us / 1000.0))]),
            new("p99", [.. points.Select(p => (p.Second + 0.5, p.P99Us / 1000.0))]),
        ];
    }

    public static SvgChart.Series[] PercentileSeries(RunResult r) =>
        [.. (r.Percentiles ?? []).Select(c => new SvgChart.Series(c.Name, [.. c.Points.Select(p => (p.Percentile, p.LatencyUs / 1000.0))]))];

    public static string LatencyOverTimeSvg(RunResult r) => SvgChart.Render(
        string.Create(CultureInfo.InvariantCulture, $"{r.Scenario}, {r.Connections:N0} connections: {Verdicts.HeadlineName(r.Scenario)} per second"),
        "seconds into the measured window", "latency (ms)", TimelineSeries(r), SvgChart.XAxis.Linear);

    public static string PercentilesSvg(RunResult r) => SvgChart.Render(
        string.Create(CultureInfo.InvariantCulture, $"{r.Scenario}, {r.Connections:N0} connections: latency by percentile"),
        "percentile", "latency (ms)", PercentileSeries(r), SvgChart.XAxis.Nines);

    /// <summary>Writes both files; returns their paths.</summary>
    public static async Task<string[]> WriteAsync(RunResult r, string directory, string baseName)
    {
        Directory.CreateDirectory(directory);
        string latency = Path.Combine(directory, baseName + "-latency.svg");
        string percentiles = Path.Combine(directory, baseName + "-percentiles.svg");
        await File.WriteAllTextAsync(latency, LatencyOverTimeSvg(r)).ConfigureAwait(false);
        await File.WriteAllTextAsync(percentiles, PercentilesSvg(r)).ConfigureAwait(false);
        return [latency, percentiles];
    }
}
