using System.Globalization;
using QkChat.Core.Accounts;
using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Core.Messaging;
using QkChat.Server.Accounts;
using QkChat.Server.Admin;
using QkChat.Server.Configuration;
using QkChat.Server.Hosting;
using QkChat.Server.Logging;
using QkChat.Server.Mail;
using QkChat.Server.Security;
using QkChat.Server.Storage;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Server;

/// <summary>
/// One source per option (issue 17 point 6): every setting is bound to an options class (a layer's, or a small one
/// of the server's per concern), has its default there and nowhere else, and reaches the layer without a line of
/// its own in the hand-over.
/// </summary>
public sealed class OptionBindingTests
{
    // The keys bound when one source per option was introduced, by the class they are bound to: one an edit moves
    // back into ServerOptions (a second default) fails BoundKeysBelongToTheirLayer. A new bound key needs no line
    // here; the theories below cover every bound key of the registry.
    private static readonly (string Key, Type Layer)[] Bound =
    [
        ("server.port", typeof(TransportOptions)),
        ("server.plain_tcp", typeof(TransportOptions)),
        ("server.backlog", typeof(TransportOptions)),
        ("server.reactors", typeof(TransportOptions)),
        ("server.pin_reactors", typeof(TransportOptions)),
        ("server.max_clients", typeof(TransportOptions)),
        ("server.max_clients_per_ip", typeof(TransportOptions)),
        ("server.ipv6_limit_prefix", typeof(TransportOptions)),
        ("server.max_frame_bytes", typeof(TransportOptions)),
        ("server.send_queue_low_bytes", typeof(TransportOptions)),
        ("server.send_queue_high_bytes", typeof(TransportOptions)),
        ("server.send_queue_hard_cap_bytes", typeof(TransportOptions)),
        ("server.slow_consumer_timeout_s", typeof(TransportOptions)),
        ("tls.port", typeof(TlsListenerOptions)),
        ("tls.cert_file", typeof(TlsListenerOptions)),
        ("tls.key_file", typeof(TlsListenerOptions)),
        ("tls.handshake_timeout_s", typeof(TlsListenerOptions)),
                ("server.login_timeout_s", typeof(ChatOptions)),
        ("server.idle_timeout_s", typeof(ChatOptions)),
        ("server.rate_limit_rps", typeof(ChatOptions)),
        ("server.rate_limit_burst", typeof(ChatOptions)),
        ("metrics.enabled", typeof(ChatOptions)),
        ("message.batch_size", typeof(MessagingOptions)),
        ("message.batch_delay_ms", typeof(MessagingOptions)),
        ("message.queue_capacity", typeof(MessagingOptions)),
        ("server.node_id", typeof(QkChat.Server.Cluster.NodeOptions)),
        ("server.node_lease_ttl_s", typeof(QkChat.Server.Cluster.NodeOptions)),
        ("account.token_lifetime_days", typeof(AccountOptions)),
        ("account.login_failures_per_account", typeof(LoginLimits)),
        ("account.login_failures_per_ip", typeof(LoginLimits)),
        ("audit.enabled", typeof(AuditOptions)),
        ("audit.retention_days", typeof(AuditOptions)),
        ("audit.queue_capacity", typeof(AuditOptions)),
        ("audit.batch_size", typeof(AuditOptions)),
        ("admin.enabled", typeof(AdminOptions)),
        ("admin.host", typeof(AdminOptions)),
        ("admin.port", typeof(AdminOptions)),
        ("admin.token", typeof(AdminOptions)),
        ("alert.cpu_percent", typeof(AlertThresholds)),
        ("alert.memory_percent", typeof(AlertThresholds)),
        ("alert.connections_percent", typeof(AlertThresholds)),
        ("alert.error_rate_percent", typeof(AlertThresholds)),
        ("alert.response_time_ms", typeof(AlertThresholds)),
        // The server's own settings, bound when ServerOptions lost its values (issue 17).
        ("server.host", typeof(ListenerOptions)),
        ("tls.enabled", typeof(ListenerOptions)),
        ("server.shutdown_timeout_s", typeof(LifecycleOptions)),
        ("startup.retry_s", typeof(LifecycleOptions)),
        ("db.host", typeof(DatabaseOptions)),
        ("db.port", typeof(DatabaseOptions)),
        ("db.user", typeof(DatabaseOptions)),
        ("db.password", typeof(DatabaseOptions)),
        ("db.name", typeof(DatabaseOptions)),
        ("db.pool_size", typeof(DatabaseOptions)),
        ("db.auto_migrate", typeof(DatabaseOptions)),
        ("redis.host", typeof(RedisOptions)),
        ("redis.port", typeof(RedisOptions)),
        ("redis.password", typeof(RedisOptions)),
        ("redis.database", typeof(RedisOptions)),
        ("smtp.host", typeof(MailTransportOptions)),
        ("smtp.port", typeof(MailTransportOptions)),
        ("smtp.user", typeof(MailTransportOptions)),
        ("smtp.password", typeof(MailTransportOptions)),
        ("smtp.from", typeof(MailTransportOptions)),
        ("smtp.starttls", typeof(MailTransportOptions)),
        ("smtp.implicit_tls", typeof(MailTransportOptions)),
        ("mail.drop_dir", typeof(MailTransportOptions)),
        ("mail.queue_capacity", typeof(MailQueueOptions)),
        ("mail.max_attempts", typeof(MailQueueOptions)),
        ("mail.retry_delay_s", typeof(MailQueueOptions)),
        ("mail.timeout_s", typeof(MailQueueOptions)),
        ("mail.drain_timeout_s", typeof(MailQueueOptions)),
        ("account.availability_checks_per_min", typeof(LookupLimits)),
        ("account.search_users_per_min", typeof(LookupLimits)),
        ("password.memory_kib", typeof(PasswordOptions)),
        ("password.iterations", typeof(PasswordOptions)),
        ("password.workers", typeof(PasswordOptions)),
        ("password.queue_capacity", typeof(PasswordOptions)),
        ("log.level", typeof(LogOptions)),
        ("log.dir", typeof(LogOptions)),
        ("log.to_file", typeof(LogOptions)),
        ("log.file_max_mb", typeof(LogOptions)),
    ];

    // Registry keys deliberately not bound to an options class, each with the reason. Every other key must be bound
    // (EveryKeyIsBoundOrListed), so no setting keeps a default in ServerOptions or in the registry.
    private static readonly Dictionary<string, string> Unbound = new()
    {
    };

    public static TheoryData<string> BoundKeys()
    {
        var data = new TheoryData<string>();
        foreach (var spec in OptionRegistry.All)
            if (spec.Layer is not null) data.Add(spec.Key);
        return data;
    }

    // The layers whose hand-over is a static method; the others are copied inside the ChatServer constructor the
    // same way (options.X.Copy()), which needs the backends.
    public static TheoryData<string> HandedOverKeys()
    {
        var data = new TheoryData<string>();
        foreach (var spec in OptionRegistry.All)
            if (spec.Layer == typeof(ChatOptions) || spec.Layer == typeof(TransportOptions) || spec.Layer == typeof(TlsListenerOptions))
                data.Add(spec.Key);
        return data;
    }

    [Fact]
    public void BoundKeysBelongToTheirLayer()
    {
        foreach (var (key, layer) in Bound)
            Assert.True(OptionRegistry.Find(key)!.Layer == layer, $"{key} is not bound to {layer.Name}");
    }

    /// <summary>Every key of the registry is bound to an options class, or listed in <see cref="Unbound"/> with its reason.</summary>
    [Fact]
    public void EveryKeyIsBoundOrListed()
    {
        var loose = OptionRegistry.All.Where(s => s.Layer is null && !Unbound.ContainsKey(s.Key)).Select(s => s.Key).ToList();
        Assert.True(loose.Count == 0, "keys bound to no options class and not listed in Unbound: " + string.Join(", ", loose));
        foreach (string key in Unbound.Keys)
            Assert.True(OptionRegistry.Find(key) is { Layer: null }, $"{key} is listed as unbound but is bound or gone");
    }

    /// <summary>
    /// ServerOptions holds one instance of each options class the registry binds to and nothing else (besides where
    /// it was read from): a value of its own would be a second place for a default.
    /// </summary>
    [Fact]
    public void ServerOptionsHoldsOnlyTheLayersObjects()
    {
        var layers = OptionRegistry.All.Where(s => s.Layer is not null).Select(s => s.Layer!).ToHashSet();
        var held = new List<Type>();
        foreach (var property in typeof(ServerOptions).GetProperties())
        {
            if (property.Name == nameof(ServerOptions.Source)) continue;
            Assert.True(layers.Contains(property.PropertyType), $"ServerOptions.{property.Name} is not an options class a key binds to");
            Assert.True(property.SetMethod is null, $"ServerOptions.{property.Name} can be replaced (then its defaults could be set twice)");
            held.Add(property.PropertyType);
        }
        Assert.Equal(layers.OrderBy(t => t.Name), held.Distinct().OrderBy(t => t.Name));
        Assert.Equal(held.Count, held.Distinct().Count());
    }

    /// <summary>
    /// The registry's default (what docs/configuration.md shows) is the one a fresh instance of the layer's class
    /// holds: ServerOptions may not set a bound setting to a default of its own.
    /// </summary>
    [Theory]
    [MemberData(nameof(BoundKeys))]
    public void DefaultIsTheLayersOwn(string key)
    {
        var spec = OptionRegistry.Find(key)!;
        Assert.NotNull(spec.LayerDefaultText);
        Assert.Equal(spec.LayerDefaultText, spec.ShowLayer(Holder(spec, new ServerOptions())));
        if (!spec.Secret) Assert.Equal(spec.LayerDefaultText, spec.DefaultText);
    }

    /// <summary>A value set in the configuration lands in the layer's object that ServerOptions holds.</summary>
    [Theory]
    [MemberData(nameof(BoundKeys))]
    public void ValueLandsInTheLayersObject(string key)
    {
        var spec = OptionRegistry.Find(key)!;
        var options = new ServerOptions();
        string value = OtherValidValue(spec, options);
        Assert.Null(spec.Apply(options, value));

        Assert.Equal(value, spec.ShowLayer(Holder(spec, options)));
    }

    /// <summary>
    /// The mail queue takes its whole options object from the configuration (record equality: every setting, also
    /// the idle close that is not one), so a default of the queue cannot differ from the configuration's.
    /// </summary>
    [Fact]
    public void MailQueueDefaultsAreWrittenOnce()
    {
        Assert.Equal(new MailQueueOptions(), new ServerOptions().MailQueue);
    }

    /// <summary>The one object of the spec's layer class that <paramref name="options"/> holds.</summary>
    private static object Holder(OptionSpec spec, ServerOptions options) =>
        Assert.Single(typeof(ServerOptions).GetProperties(), p => p.PropertyType == spec.Layer).GetValue(options)!;

    /// <summary>A value set in the configuration reaches the engine or dispatcher (the hand-over copies, names nothing).</summary>
    [Theory]
    [MemberData(nameof(HandedOverKeys))]
    public void HandOverCarriesTheValue(string key)
    {
        var spec = OptionRegistry.Find(key)!;
        var options = new ServerOptions { Listener = { TlsEnabled = true } };
        string value = OtherValidValue(spec, options);
        Assert.Null(spec.Apply(options, value));

        object layer = spec.Layer == typeof(ChatOptions) ? ChatServer.ChatOptionsFrom(options)
            : spec.Layer == typeof(TlsListenerOptions) ? ChatServer.TransportOptionsFrom(options).Tls!
            : ChatServer.TransportOptionsFrom(options);
        Assert.Equal(value, spec.ShowLayer(layer));
    }

    /// <summary>The hand-over gives each layer its own object, so a reload that changes it leaves the configuration as read.</summary>
    [Fact]
    public void HandOverCopies()
    {
        var options = new ServerOptions { Listener = { TlsEnabled = true } };
        Assert.NotSame(options.Transport, ChatServer.TransportOptionsFrom(options));
        Assert.NotSame(options.Tls, ChatServer.TransportOptionsFrom(options).Tls);
        Assert.NotSame(options.Chat, ChatServer.ChatOptionsFrom(options));
    }

    private static string OtherValidValue(OptionSpec spec, ServerOptions options)
    {
        string current = spec.Show(options);
        if (current is "true" or "false") return current == "true" ? "false" : "true";
        if (!int.TryParse(current, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
        {
            // Free text takes any other string; a choice (log.level) takes one of its words; server.node_id a number;
            // http.allowed_origins a wildcard.
            foreach (string candidate in OptionRegistry.LogLevels.Prepend(current + "x").Append("1").Append("*"))
                if (candidate != current && spec.Apply(new ServerOptions(), candidate) is null) return candidate;
            throw new InvalidOperationException($"{spec.Key}: no other valid value than {current}");
        }
        foreach (int candidate in new[] { n + 1, n - 1 })
        {
            string text = candidate.ToString(CultureInfo.InvariantCulture);
            if (spec.Apply(new ServerOptions(), text) is null) return text;
        }
        throw new InvalidOperationException($"{spec.Key}: no other valid value next to {current}");
    }
}
