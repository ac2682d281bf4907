using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace QkChat.Server.Admin;

/// <summary>
/// Renders the server's observable instruments in the Prometheus text format (version 0.0.4) when scraped: a
/// MeterListener asks every instrument for its current values, and the samples are written grouped by metric.
/// Names follow Prometheus conventions: dots become underscores, counters end in _total, the units By and s
/// become _bytes and _seconds.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private readonly List<(Instrument Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _samples = [];

    public PrometheusExporter(string meterName)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => _samples.Add((i, v, tags.ToArray())));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => _samples.Add((i, v, tags.ToArray())));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => _samples.Add((i, v, tags.ToArray())));
        _listener.Start();
    }

    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public string Scrape()
    {
        lock (_gate)
        {
            _samples.Clear();
            // The callbacks above run inside this call, on this thread, under the lock.
            _listener.RecordObservableInstruments();
            var text = new StringBuilder(4096);
            foreach (var family in _samples.GroupBy(s => s.Instrument))
            {
                var instrument = family.Key;
                bool counter = instrument is ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double>;
                string name = MetricName(instrument, counter);
                text.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description ?? instrument.Name).Append('\n');
                text.Append("# TYPE ").Append(name).Append(counter ? " counter\n" : " gauge\n");
                foreach (var (_, value, tags) in family)
                {
                    text.Append(name);
                    if (tags.Length > 0)
                    {
                        text.Append('{');
                        for (int t = 0; t < tags.Length; t++)
                        {
                            if (t > 0) text.Append(',');
                            text.Append(tags[t].Key).Append("=\"").Append(Escape(Convert.ToString(tags[t].Value, CultureInfo.InvariantCulture))).Append('"');
                        }
                        text.Append('}');
                    }
                    text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                }
            }
            return text.ToString();
        }
    }

    public static string MetricName(Instrument instrument, bool counter)
    {
        string name = instrument.Name.Replace('.', '_');
        name += instrument.Unit switch
        {
            "By" => "_bytes",
            "s" => "_seconds",
            _ => "",
        };
        return counter ? name + "_total" : name;
    }

    private static string Escape(string? value) =>
        (value ?? "").Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    public void Dispose() => _listener.Dispose();
}
