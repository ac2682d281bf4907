using System.Buffers;
using System.Reflection;
using System.Text;
using System.Text.Json;
using MySqlConnector;
using QkChat.Transport;
using StackExchange.Redis;

namespace QkChat.Server.Admin;

/// <summary>What the admin endpoints answer, apart from HTTP: JSON written with Utf8JsonWriter (no reflection, AOT-safe).</summary>
public sealed class AdminEndpoints(PrometheusExporter exporter, TransportEngine engine, StatusSampler sampler, AlertMonitor alerts,
    RecentWarnings warnings, MySqlDataSource db, IConnectionMultiplexer redis, IReadOnlyList<(string Key, string Value)> configSummary,
    string version, Func<List<QkChat.Core.Audit.AuditRow>> securityEvents, int nodeId = 0)
{
    private static readonly long StartedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>The dashboard: one self-contained page (no CDN), embedded in the binary.</summary>
    public static readonly string DashboardPage = LoadPage();

    private static string LoadPage()
    {
        using var stream = typeof(AdminEndpoints).Assembly.GetManifestResourceStream("admin/dashboard.html")
                           ?? throw new InvalidOperationException("admin/dashboard.html is not embedded");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public string Metrics() => exporter.Scrape();

    /// <summary>Ready when the chat listener is bound and MariaDB and Redis answer within 2 s each.</summary>
    public async Task<(bool Ready, string Json)> ReadinessAsync(CancellationToken ct)
    {
        bool listening = engine.Listening;
        string? dbError = await ProbeAsync(async token =>
        {
            await using var connection = await db.OpenConnectionAsync(token);
            await using var command = new MySqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(token);
        }, ct);
        string? redisError = await ProbeAsync(async _ => await redis.GetDatabase().PingAsync(), ct);
        bool ready = listening && dbError is null && redisError is null;
        return (ready, Json(w =>
        {
            w.WriteBoolean("ready", ready);
            w.WriteStartObject("checks");
            w.WriteString("listener", listening ? "ok" : "not listening");
            w.WriteString("mariadb", dbError ?? "ok");
            w.WriteString("redis", redisError ?? "ok");
            w.WriteEndObject();
        }));
    }

    private static async Task<string?> ProbeAsync(Func<CancellationToken, Task> probe, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await probe(timeout.Token).WaitAsync(timeout.Token);
            return null;
        }
        catch (Exception e)
        {
            return e is OperationCanceledException ? "no answer within 2 s" : e.Message;
        }
    }

    public string Status() => Json(w =>
    {
        w.WriteString("version", version);
        w.WriteNumber("node_id", nodeId);
        w.WriteNumber("started_at", StartedAt);
        w.WriteNumber("uptime_s", (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - StartedAt) / 1000);
        w.WriteNumber("connections", engine.OpenConnections);
        w.WriteStartArray("reactors");
        foreach (var reactor in engine.Reactors)
        {
            var s = reactor.Stats;
            w.WriteStartObject();
            w.WriteNumber("index", reactor.Index);
            w.WriteNumber("connections", Volatile.Read(ref s.OpenConnections));
            w.WriteNumber("ws_connections", Volatile.Read(ref s.OpenWebSocketConnections));
            w.WriteNumber("pinned_cpu", s.PinnedCpu);
            w.WriteNumber("accepted", Volatile.Read(ref s.Accepted));
            w.WriteNumber("bytes_in", Volatile.Read(ref s.BytesIn));
            w.WriteNumber("bytes_out", Volatile.Read(ref s.BytesOut));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("config");
        foreach (var (key, value) in configSummary) w.WriteString(key, value);
        w.WriteEndObject();
    });

    public string Dashboard() => Json(w =>
    {
        w.WriteString("version", version);
        w.WriteNumber("node_id", nodeId);
        w.WriteStartArray("samples");
        foreach (var s in sampler.History())
        {
            w.WriteStartObject();
            w.WriteNumber("at", s.At);
            w.WriteNumber("connections", s.Connections);
            w.WriteNumber("ws_connections", s.WebSocketConnections);
            w.WriteNumber("devices", s.Devices);
            w.WriteNumber("messages_per_s", Math.Round(s.MessagesPerSecond, 1));
            w.WriteNumber("group_entries_per_s", Math.Round(s.GroupEntriesPerSecond, 1));
            w.WriteNumber("cpu_percent", Math.Round(s.CpuPercent, 1));
            w.WriteNumber("memory_mb", Math.Round(s.WorkingSetBytes / 1048576.0, 1));
            w.WriteNumber("errors_per_s", Math.Round(s.ErrorsPerSecond, 2));
            w.WriteNumber("requests_per_s", Math.Round(s.Requests.PerSecond, 1));
            w.WriteNumber("error_percent", Math.Round(s.Requests.ErrorPercent, 2));
            // Cross-node traffic: frames published to other nodes and received from them through Redis (docs/cluster.md).
            w.WriteNumber("route_out_per_s", Math.Round(s.RoutedOutPerSecond, 1));
            w.WriteNumber("route_in_per_s", Math.Round(s.RoutedInPerSecond, 1));
            // null when the second had no request: the chart leaves a gap instead of drawing a false 0 ms.
            WriteMs(w, "p50_ms", s.Requests.P50Ms);
            WriteMs(w, "p90_ms", s.Requests.P90Ms);
            WriteMs(w, "p99_ms", s.Requests.P99Ms);
            w.WriteStartArray("reactor_connections");
            foreach (int c in s.ReactorConnections) w.WriteNumberValue(c);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("alerts");
        foreach (var a in alerts.Active())
        {
            w.WriteStartObject();
            w.WriteString("key", a.Key);
            w.WriteString("what", a.What);
            w.WriteNumber("value", Math.Round(a.Value, 1));
            w.WriteNumber("threshold", a.Threshold);
            w.WriteString("unit", a.Unit);
            w.WriteNumber("since", a.Since);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("security_events");
        foreach (var row in securityEvents())
        {
            var e = row.Record;
            w.WriteStartObject();
            w.WriteNumber("at", row.At);
            w.WriteString("event", QkChat.Core.Audit.AuditEvents.Name(e.Event));
            if (e.UserId is { } user) w.WriteNumber("user_id", user); else w.WriteNull("user_id");
            w.WriteString("ip", e.Ip);
            w.WriteString("outcome", e.Ok ? "ok" : "failed");
            w.WriteString("detail", e.Detail);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("warnings");
        foreach (var e in warnings.Snapshot())
        {
            w.WriteStartObject();
            w.WriteNumber("at", e.At);
            w.WriteString("level", e.Level);
            w.WriteString("category", e.Category);
            w.WriteString("message", e.Message);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    private static void WriteMs(Utf8JsonWriter w, string name, double ms)
    {
        if (double.IsFinite(ms) && ms > 0) w.WriteNumber(name, Math.Round(ms, 3));
        else w.WriteNull(name);
    }

    private static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
