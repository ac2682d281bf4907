using System.Diagnostics.Metrics;
using QkChat.Core.Dispatch;

namespace QkChat.Server.Admin;

/// <summary>
/// Collects the instruments of a meter for /metrics: the server's own (all observable, read when scraped) and
/// another library's. MySqlConnector publishes its pool state on the
/// meter "MySqlConnector" (db.client.connections.usage by state idle/used, pending_requests, timeouts, max, and the
/// create/use/wait time histograms), mostly as push instruments that report each change as it happens. Counters and
/// up-down counters are summed per label set, time histograms (unit s or ms) are counted into
/// <see cref="LatencyBuckets"/>, observable instruments are read when scraped.
///
/// An up-down counter is a running sum of changes, so only changes made while this listens are counted: start it
/// before the library does anything (the server starts it before it creates its first data source). Recording
/// costs a short lock and a scan of a few label sets per pool event, which happens per database command, never per
/// chat request that does not touch the database.
/// </summary>
public sealed class MeterCollector : IDisposable
{
    public const string MySqlConnectorMeter = "MySqlConnector";

    private readonly MeterListener _listener = new();
    private readonly Lock _pushGate = new();
    private readonly Lock _scrapeGate = new();
    private readonly Dictionary<Instrument, List<Series>> _series = [];
    private readonly List<(Instrument Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _observed = [];

    private sealed class Series(KeyValuePair<string, object?>[] tags, bool histogram)
    {
        public readonly KeyValuePair<string, object?>[] Tags = tags;
        public readonly long[]? Buckets = histogram ? new long[LatencyBuckets.Count] : null;
        public double Sum;
    }

    /// <summary>The meter of this name (any instance: libraries make their own).</summary>
    public MeterCollector(string meterName = MySqlConnectorMeter) : this(meter => meter.Name == meterName)
    {
    }

    /// <summary>The meters <paramref name="accepts"/> says yes to (the server's own: that object only, so two servers
    /// in one process, as in the tests, each export their own).</summary>
    public MeterCollector(Func<Meter, bool> accepts)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!accepts(instrument.Meter)) return;
            // Histograms of anything but time have no place in the latency buckets: left out.
            if (MetricNames.IsHistogram(instrument) && instrument.Unit is not ("s" or "ms")) return;
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => OnMeasurement(i, v, tags));
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => OnMeasurement(i, v, tags));
        _listener.SetMeasurementEventCallback<float>((i, v, tags, _) => OnMeasurement(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => OnMeasurement(i, v, tags));
        _listener.Start();
    }

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (instrument.IsObservable)
        {
            // Only inside RecordObservableInstruments, on the scraping thread, under _scrapeGate.
            _observed.Add((instrument, value, tags.ToArray()));
            return;
        }
        bool histogram = MetricNames.IsHistogram(instrument);
        if (histogram && instrument.Unit == "ms") value /= 1000;
        lock (_pushGate)
        {
            var series = Find(instrument, tags, histogram);
            if (series.Buckets is { } buckets) buckets[LatencyBuckets.IndexOfSeconds(value)]++;
            series.Sum += value;
        }
    }

    /// <summary>The series of these tags; the pool passes the same few tag lists again and again, so a scan finds them.</summary>
    private Series Find(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags, bool histogram)
    {
        if (!_series.TryGetValue(instrument, out var list)) _series[instrument] = list = [];
        foreach (var series in list)
            if (SameTags(series.Tags, tags)) return series;
        var added = new Series(tags.ToArray(), histogram);
        list.Add(added);
        return added;
    }

    private static bool SameTags(KeyValuePair<string, object?>[] known, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (known.Length != tags.Length) return false;
        for (int i = 0; i < known.Length; i++)
            if (known[i].Key != tags[i].Key || !Equals(known[i].Value, tags[i].Value)) return false;
        return true;
    }

    /// <summary>Adds the current values: counters and gauges to <paramref name="scalars"/>, histograms to <paramref name="histograms"/>.</summary>
    public void Collect(List<ScalarFamily> scalars, List<HistogramFamily> histograms)
    {
        lock (_scrapeGate)
        {
            _observed.Clear();
            _listener.RecordObservableInstruments();
            foreach (var family in _observed.GroupBy(o => o.Instrument))
            {
                bool counter = MetricNames.IsCounter(family.Key);
                scalars.Add(new ScalarFamily(MetricNames.Of(family.Key, counter), family.Key.Description ?? family.Key.Name, counter,
                    family.Select(o => (o.Tags, o.Value)).ToList()));
            }
        }
        lock (_pushGate)
        {
            foreach (var (instrument, list) in _series)
            {
                string help = instrument.Description ?? instrument.Name;
                if (MetricNames.IsHistogram(instrument))
                {
                    histograms.Add(new HistogramFamily(MetricNames.Of(instrument, counter: false), help, LatencyBuckets.UpperBoundsSeconds,
                        list.Select(s => new HistogramSeries(s.Tags, (long[])s.Buckets!.Clone(), s.Sum)).ToList()));
                    continue;
                }
                // An up-down counter is a level (connections in use), which Prometheus calls a gauge.
                bool counter = MetricNames.IsCounter(instrument);
                scalars.Add(new ScalarFamily(MetricNames.Of(instrument, counter), help, counter, list.Select(s => (s.Tags, s.Sum)).ToList()));
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}
