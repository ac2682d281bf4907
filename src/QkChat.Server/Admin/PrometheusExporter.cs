using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace QkChat.Server.Admin;

/// <summary>
/// Renders the server's metrics in the Prometheus text format (version 0.0.4) when scraped: the instruments of the
/// server's meter, those of other libraries (MySqlConnector's pool) through their <see cref="MeterCollector"/>, and
/// the server's own histograms (<see cref="IHistogramSource"/>). Names follow Prometheus conventions
/// (<see cref="MetricNames"/>); label names lose the dots they may carry (pool.name becomes pool_name).
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private readonly Lock _gate = new();
    private readonly MeterCollector? _own;
    private readonly MeterCollector? _push;
    private readonly IReadOnlyList<IHistogramSource> _histograms;

    public PrometheusExporter(Meter? meter, MeterCollector? push = null, IReadOnlyList<IHistogramSource>? histograms = null)
    {
        _own = meter is null ? null : new MeterCollector(m => ReferenceEquals(m, meter));
        _push = push;
        _histograms = histograms ?? [];
    }

    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public string Scrape()
    {
        lock (_gate)
        {
            var scalars = new List<ScalarFamily>();
            var histograms = new List<HistogramFamily>();
            _own?.Collect(scalars, histograms);
            _push?.Collect(scalars, histograms);
            foreach (var source in _histograms) histograms.AddRange(source.Histograms());
            var text = new StringBuilder(16384);
            foreach (var family in scalars) AppendScalar(text, family);
            foreach (var family in histograms) AppendHistogram(text, family);
            return text.ToString();
        }
    }

    private static void AppendHeader(StringBuilder text, string name, string help, string type)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(help)).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    private static void AppendScalar(StringBuilder text, ScalarFamily family)
    {
        if (family.Samples.Count == 0) return;
        AppendHeader(text, family.Name, family.Help, family.Counter ? "counter" : "gauge");
        foreach (var (labels, value) in family.Samples)
        {
            text.Append(family.Name);
            AppendLabels(text, labels, null);
            text.Append(' ').Append(Number(value)).Append('\n');
        }
    }

    /// <summary>`_bucket` lines with cumulative counts and `le`, then `_sum` and `_count`, per series.</summary>
    private static void AppendHistogram(StringBuilder text, HistogramFamily family)
    {
        if (family.Series.Count == 0) return;
        AppendHeader(text, family.Name, family.Help, "histogram");
        foreach (var series in family.Series)
        {
            long cumulative = 0;
            for (int b = 0; b < series.Buckets.Length; b++)
            {
                cumulative += series.Buckets[b];
                string le = b < family.UpperBounds.Count ? Number(family.UpperBounds[b]) : "+Inf";
                text.Append(family.Name).Append("_bucket");
                AppendLabels(text, series.Labels, le);
                text.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
            text.Append(family.Name).Append("_sum");
            AppendLabels(text, series.Labels, null);
            text.Append(' ').Append(Number(series.Sum)).Append('\n');
            text.Append(family.Name).Append("_count");
            AppendLabels(text, series.Labels, null);
            text.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    private static void AppendLabels(StringBuilder text, KeyValuePair<string, object?>[] labels, string? le)
    {
        if (labels.Length == 0 && le is null) return;
        text.Append('{');
        for (int t = 0; t < labels.Length; t++)
        {
            if (t > 0) text.Append(',');
            text.Append(LabelName(labels[t].Key)).Append("=\"").Append(Escape(Convert.ToString(labels[t].Value, CultureInfo.InvariantCulture))).Append('"');
        }
        if (le is not null) text.Append(labels.Length > 0 ? "," : "").Append("le=\"").Append(le).Append('"');
        text.Append('}');
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Label names allow [a-zA-Z0-9_] only; OpenTelemetry's attribute names carry dots.</summary>
    private static string LabelName(string key)
    {
        var name = new StringBuilder(key.Length);
        foreach (char c in key) name.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        if (name.Length == 0 || char.IsAsciiDigit(name[0])) name.Insert(0, '_');
        return name.ToString();
    }

    private static string Escape(string? value) =>
        (value ?? "").Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeHelp(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    public void Dispose() => _own?.Dispose();
}
