using System.Collections;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using QkChat.Core.Accounts;
using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Server.Accounts;
using QkChat.Server.Admin;
using QkChat.Server.Configuration;
using QkChat.Server.Logging;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Server;

/// <summary>The error-rate and response-time alerts, and the histogram and pushed-instrument rendering of /metrics.</summary>
public sealed class AdminMetricsTests
{
    private sealed class Lines : ILogger
    {
        public readonly List<(LogLevel Level, string Text)> All = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            All.Add((logLevel, formatter(state, exception)));
    }

    private static StatusSample Sample(long requests, double errorPercent = 0, double p99Ms = 1) =>
        new(0, 10, 10, 0, 10, 0, 10, 0, 0, [10], [0], new RequestFigures(requests, requests, errorPercent, p99Ms / 2, p99Ms / 1.5, p99Ms));

    [Fact]
    public void The_error_rate_alert_starts_once_per_episode_ignores_quiet_seconds_and_ends_when_the_rate_falls()
    {
        var log = new Lines();
        var monitor = new AlertMonitor(new AlertThresholds(85, 90, 90), 10_000, log);
        monitor.Check(Sample(1000, errorPercent: 4.9));
        Assert.Empty(monitor.Active());
        monitor.Check(Sample(AlertMonitor.MinRequestsPerWindow - 1, errorPercent: 100)); // too few requests to judge
        Assert.Empty(monitor.Active());

        monitor.Check(Sample(1000, errorPercent: 12));
        monitor.Check(Sample(1000, errorPercent: 30));
        var active = Assert.Single(monitor.Active());
        Assert.Equal(("error_rate", 30.0, 5.0), (active.Key, active.Value, active.Threshold));
        Assert.Single(log.All, l => l.Level == LogLevel.Warning && l.Text.Contains("INTERNAL, UNAVAILABLE, SERVER_BUSY"));

        monitor.Check(Sample(3, errorPercent: 0)); // a quiet second does not end the episode either
        Assert.Single(monitor.Active());
        monitor.Check(Sample(1000, errorPercent: 1));
        Assert.Empty(monitor.Active());
        Assert.Single(log.All, l => l.Level == LogLevel.Information && l.Text.StartsWith("alert over: responses failed", StringComparison.Ordinal));
    }

    [Fact]
    public void The_response_time_alert_compares_the_windows_p99_with_a_threshold_that_a_reload_moves()
    {
        var log = new Lines();
        var thresholds = new AlertThresholds(85, 90, 90);
        var monitor = new AlertMonitor(thresholds, 10_000, log);
        Assert.Equal((5, 200), (thresholds.ErrorRatePercent, thresholds.ResponseTimeMs)); // the original's defaults
        monitor.Check(Sample(500, p99Ms: 199));
        Assert.Empty(monitor.Active());
        monitor.Check(Sample(500, p99Ms: 450));
        var active = Assert.Single(monitor.Active());
        Assert.Equal(("response_time", 450.0, 200.0, " ms"), (active.Key, active.Value, active.Threshold, active.Unit));
        Assert.Contains(log.All, l => l.Level == LogLevel.Warning && l.Text == "alert: p99 response time at 450 ms, above the threshold of 200 ms");

        thresholds.ResponseTimeMs = 500;
        monitor.Check(Sample(500, p99Ms: 450));
        Assert.Empty(monitor.Active());
        Assert.Single(log.All, l => l.Level == LogLevel.Warning);
    }

    private sealed class FixedHistograms : IHistogramSource
    {
        public IEnumerable<HistogramFamily> Histograms()
        {
            var buckets = new long[LatencyBuckets.Count];
            buckets[0] = 3;
            buckets[2] = 2;
            buckets[^1] = 1;
            yield return new HistogramFamily("test_duration_seconds", "a test\nwith two lines", LatencyBuckets.UpperBoundsSeconds,
                [new HistogramSeries([new("action", "say \"hi\"")], buckets, 12.5)]);
        }
    }

    [Fact]
    public void Histograms_render_cumulative_buckets_with_le_then_sum_and_count()
    {
        using var exporter = new PrometheusExporter(null, histograms: [new FixedHistograms()]);
        var lines = exporter.Scrape().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("# HELP test_duration_seconds a test\\nwith two lines", lines[0]);
        Assert.Equal("# TYPE test_duration_seconds histogram", lines[1]);
        Assert.Equal("""test_duration_seconds_bucket{action="say \"hi\"",le="0.0001"} 3""", lines[2]);
        Assert.Equal("""test_duration_seconds_bucket{action="say \"hi\"",le="0.00025"} 3""", lines[3]);
        Assert.Equal("""test_duration_seconds_bucket{action="say \"hi\"",le="0.0005"} 5""", lines[4]);
        Assert.Equal("""test_duration_seconds_bucket{action="say \"hi\"",le="10"} 5""", lines[17]);
        Assert.Equal("""test_duration_seconds_bucket{action="say \"hi\"",le="+Inf"} 6""", lines[18]);
        Assert.Equal("""test_duration_seconds_sum{action="say \"hi\""} 12.5""", lines[19]);
        Assert.Equal("""test_duration_seconds_count{action="say \"hi\""} 6""", lines[20]);
        Assert.Equal(21, lines.Length);
    }

    [Fact]
    public void Pushed_instruments_of_a_library_meter_are_summed_per_label_set_and_time_histograms_bucketed()
    {
        string meterName = "QkChat.Tests.Push." + Guid.NewGuid().ToString("N");
        using var collector = new MeterCollector(meterName);
        using var meter = new Meter(meterName);
        var usage = meter.CreateUpDownCounter<int>("db.client.connections.usage", "{connection}", "connections by state");
        var timeouts = meter.CreateCounter<int>("db.client.connections.timeouts", "{timeout}");
        var wait = meter.CreateHistogram<double>("db.client.connections.wait_time", "s");
        var waitMs = meter.CreateHistogram<float>("other.wait", "ms");
        var sizes = meter.CreateHistogram<int>("other.sizes", "{row}"); // not a time: left out
        meter.CreateObservableUpDownCounter("db.client.connections.max", () => new Measurement<int>(4, new KeyValuePair<string, object?>("pool.name", "main")));
        var idle = new KeyValuePair<string, object?>[] { new("pool.name", "main"), new("state", "idle") };
        var used = new KeyValuePair<string, object?>[] { new("pool.name", "main"), new("state", "used") };
        usage.Add(1, idle);
        usage.Add(-1, idle);
        usage.Add(1, used);
        usage.Add(1, idle);
        usage.Add(1, used);
        timeouts.Add(1, new KeyValuePair<string, object?>("pool.name", "main"));
        wait.Record(0.0002, new KeyValuePair<string, object?>("pool.name", "main"));
        wait.Record(3, new KeyValuePair<string, object?>("pool.name", "main"));
        waitMs.Record(2f);
        sizes.Record(500);

        var scalars = new List<ScalarFamily>();
        var histograms = new List<HistogramFamily>();
        collector.Collect(scalars, histograms);
        var usageFamily = scalars.Single(f => f.Name == "db_client_connections_usage");
        Assert.False(usageFamily.Counter);
        Assert.Equal(1, usageFamily.Samples.Single(s => Equals(s.Labels[1].Value, "idle")).Value);
        Assert.Equal(2, usageFamily.Samples.Single(s => Equals(s.Labels[1].Value, "used")).Value);
        Assert.True(scalars.Single(f => f.Name == "db_client_connections_timeouts_total").Counter);
        Assert.Equal(4, scalars.Single(f => f.Name == "db_client_connections_max").Samples.Single().Value);

        var waitFamily = histograms.Single(h => h.Name == "db_client_connections_wait_time_seconds");
        var series = waitFamily.Series.Single();
        Assert.Equal(1, series.Buckets[1]);   // 0.2 ms
        Assert.Equal(1, series.Buckets[14]);  // 3 s: (2.5 s, 5 s]
        Assert.Equal(3.0002, series.Sum, 9);
        var msFamily = histograms.Single(h => h.Name == "other_wait_seconds");
        Assert.Equal(1, msFamily.Series.Single().Buckets[4]); // 2 ms: (1 ms, 2.5 ms]
        Assert.DoesNotContain(histograms, h => h.Name.StartsWith("other_sizes", StringComparison.Ordinal));

        using var exporter = new PrometheusExporter(null, collector);
        string text = exporter.Scrape();
        Assert.Contains("db_client_connections_usage{pool_name=\"main\",state=\"used\"} 2\n", text);
        Assert.Contains("# TYPE db_client_connections_wait_time_seconds histogram\n", text);
    }

    [Fact]
    public void The_new_alert_limits_and_the_metrics_switch_have_their_defaults_and_reload()
    {
        var running = ConfigLoader.Load(null, [], new Hashtable());
        Assert.Equal((5, 200, true), (running.Alerts.ErrorRatePercent, running.Alerts.ResponseTimeMs, running.Chat.MetricsEnabled));
        var targets = new LiveTargets
        {
            LogLevel = new LogLevelSwitch(LogLevel.Information),
            Chat = new ChatOptions(),
            Transport = new TransportOptions(),
            Limiter = new ConnectionLimiter(running.Transport.MaxClients, running.Transport.MaxClientsPerIp),
            Accounts = new AccountOptions(),
            LoginLimits = new LoginLimits(),
            Audit = new AuditOptions(),
        };
        LiveReload.ApplyAll(running, targets);
        var fresh = ConfigLoader.Load(null, [], new Hashtable
        {
            ["QKCHAT_ALERT_ERROR_RATE_PERCENT"] = "2",
            ["QKCHAT_ALERT_RESPONSE_TIME_MS"] = "750",
            ["QKCHAT_METRICS_ENABLED"] = "false",
        });
        var changes = LiveReload.Apply(running, fresh, targets).ToDictionary(c => c.Key);
        Assert.All(new[] { "alert.error_rate_percent", "alert.response_time_ms", "metrics.enabled" }, k => Assert.True(changes[k].Applied, k));
        Assert.Equal((2, 750), (targets.Alerts.ErrorRatePercent, targets.Alerts.ResponseTimeMs));
        Assert.False(targets.Chat.MetricsEnabled);
        Assert.Contains("| `metrics.enabled` | `QKCHAT_METRICS_ENABLED` | `true` | live |", ConfigDocs.MarkdownTable());
    }
}
