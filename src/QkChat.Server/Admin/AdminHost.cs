using Microsoft.Extensions.Logging;
using MySqlConnector;
using QkChat.Core.Accounts;
using QkChat.Core.Dispatch;
using QkChat.Transport;
using StackExchange.Redis;

namespace QkChat.Server.Admin;

/// <summary>Everything behind the admin listener, started after the chat server and stopped before it.</summary>
public sealed class AdminHost : IAsyncDisposable
{
    private readonly ServerMetrics _metrics;
    private readonly PrometheusExporter _exporter;
    private readonly StatusSampler _sampler;
    private readonly AdminServer _server;

    private AdminHost(ServerMetrics metrics, PrometheusExporter exporter, StatusSampler sampler, AlertMonitor alerts, AdminServer server)
    {
        _metrics = metrics;
        _exporter = exporter;
        _sampler = sampler;
        Alerts = alerts;
        _server = server;
    }

    public AlertMonitor Alerts { get; }

    public System.Net.IPEndPoint? EndPoint => _server.EndPoint;

    /// <param name="version">The build's version, shown by /status and the dashboard.</param>
    /// <param name="requests">The dispatcher's request counters (null: no request metrics, no latency on the dashboard).</param>
    /// <param name="dbPools">The MySqlConnector pool metrics, collected since before the first pool was made (the caller owns it).</param>
    public static async Task<AdminHost> StartAsync(AdminOptions options, AlertThresholds thresholds, TransportEngine engine, IMonitoredFeatures features,
        PasswordWorkPool passwords, MySqlDataSource db, IConnectionMultiplexer redis, RecentWarnings warnings, int maxClients,
        IReadOnlyList<(string Key, string Value)> configSummary, string version, ILoggerFactory loggers, Func<long>? mailPending = null,
        RequestMetrics? requests = null, MeterCollector? dbPools = null, CancellationToken ct = default, QkChat.Server.Cluster.NodeLease? lease = null)
    {
        // The batchers' label values in qkchat_batch_commit_seconds{batcher=...}.
        List<(string, LatencyHistogram)> batchers =
        [
            ("messages", features.Messaging.Writer.CommitTimes),
            ("groups", features.Groups.Writers.CommitTimes),
            ("acks", features.Messaging.Acks.CommitTimes),
            ("search", features.Messaging.Indexer.CommitTimes),
            ("audit", features.Audit.CommitTimes),
        ];
        var metrics = new ServerMetrics(engine, features.Live, features.Messaging, passwords, redis, mailPending, requests, batchers, lease, features.Routes,
            features.Groups, features.FileStats);
        // The exporter listens to the meter created just above (instruments publish to listeners started later too).
        var exporter = new PrometheusExporter(metrics.Meter, dbPools, [new ServerHistograms(requests, batchers)]);
        var sampler = new StatusSampler(engine, features.Live, features.Messaging, requests, features.Groups, features.Routes);
        var alerts = new AlertMonitor(thresholds, maxClients, loggers.CreateLogger("Alerts"));
        sampler.Sampled += alerts.Check;
        var endpoints = new AdminEndpoints(exporter, engine, sampler, alerts, warnings, db, redis, configSummary, version, features.Audit.Recent,
            features.Messaging.Ids.Node);
        var server = await AdminServer.StartAsync(options, endpoints, ct);
        return new AdminHost(metrics, exporter, sampler, alerts, server);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _sampler.DisposeAsync();
        _exporter.Dispose();
        _metrics.Dispose();
    }
}
