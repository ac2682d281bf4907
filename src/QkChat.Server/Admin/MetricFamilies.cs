using System.Diagnostics.Metrics;

namespace QkChat.Server.Admin;

/// <summary>A counter or gauge family as /metrics renders it: one sample per label set.</summary>
public sealed record ScalarFamily(string Name, string Help, bool Counter, List<(KeyValuePair<string, object?>[] Labels, double Value)> Samples);

/// <summary>
/// One series of a histogram: the count of each bucket (not cumulative, the last one +Inf) and the sum of the
/// observed values (seconds for every histogram here).
/// </summary>
public sealed record HistogramSeries(KeyValuePair<string, object?>[] Labels, long[] Buckets, double Sum);

/// <summary>A histogram family: its name (already in Prometheus form, without _bucket), the upper bounds shared by its series.</summary>
public sealed record HistogramFamily(string Name, string Help, IReadOnlyList<double> UpperBounds, List<HistogramSeries> Series);

/// <summary>
/// Something that has histograms for /metrics. System.Diagnostics.Metrics has no observable histogram (its
/// Histogram is push-only, one callback per value), and the request path must not pay a callback per request: the
/// server keeps its own per-reactor buckets and hands them to the exporter through this, read when scraped.
/// </summary>
public interface IHistogramSource
{
    IEnumerable<HistogramFamily> Histograms();
}

/// <summary>Prometheus naming for System.Diagnostics.Metrics instruments.</summary>
public static class MetricNames
{
    /// <summary>Dots become underscores, the units By and s become _bytes and _seconds, counters end in _total.</summary>
    public static string Of(Instrument instrument, bool counter)
    {
        string name = instrument.Name.Replace('.', '_');
        name += instrument.Unit switch
        {
            "By" => "_bytes",
            "s" or "ms" => "_seconds", // values in ms are converted where they are collected
            _ => "",
        };
        return counter ? name + "_total" : name;
    }

    public static bool IsCounter(Instrument instrument) =>
        instrument is ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double> or ObservableCounter<float>
            or Counter<long> or Counter<int> or Counter<double> or Counter<float>;

    public static bool IsHistogram(Instrument instrument) =>
        instrument is Histogram<double> or Histogram<float> or Histogram<long> or Histogram<int>;
}
