using System.Collections;
using Microsoft.Extensions.Logging;
using QkChat.Core.Accounts;
using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Server.Accounts;
using QkChat.Server.Configuration;
using QkChat.Server.Logging;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Server;

public sealed class LiveReloadTests
{
    private static LiveTargets Targets(ServerOptions o)
    {
        var targets = new LiveTargets
        {
            LogLevel = new LogLevelSwitch(LogLevel.Information),
            Chat = new ChatOptions(),
            Transport = new TransportOptions(),
            Limiter = new ConnectionLimiter(o.Transport.MaxClients, o.Transport.MaxClientsPerIp),
            Accounts = new AccountOptions(),
            LoginLimits = new LoginLimits(),
            Audit = new AuditOptions(),
        };
        LiveReload.ApplyAll(o, targets);
        return targets;
    }

    private static ServerOptions Load(params (string Key, string Value)[] env)
    {
        // No file: the defaults plus these variables, as a reload reads them.
        var table = new Hashtable();
        foreach (var (k, v) in env) table[k] = v;
        return ConfigLoader.Load(null, [], table);
    }

    [Fact]
    public void Every_reloadable_key_is_a_registered_option_and_restart_keys_are_the_risky_ones()
    {
        foreach (string key in LiveReload.ReloadableKeys) Assert.NotNull(OptionRegistry.Find(key));
        foreach (string key in new[] { "server.port", "server.host", "server.reactors", "db.host", "redis.host", "tls.enabled", "server.max_frame_bytes", "server.node_id" })
            Assert.False(OptionRegistry.Find(key)!.Reloadable, key);
        foreach (string key in new[] { "log.level", "server.rate_limit_rps", "server.max_clients", "server.idle_timeout_s", "audit.retention_days", "account.login_failures_per_ip" })
            Assert.True(OptionRegistry.Find(key)!.Reloadable, key);
        Assert.Contains("| reload |", ConfigDocs.MarkdownTable());
    }

    [Fact]
    public void Alert_thresholds_and_message_batch_keys_reload()
    {
        var running = Load();
        var targets = Targets(running);
        var fresh = Load(("QKCHAT_ALERT_CPU_PERCENT", "50"), ("QKCHAT_ALERT_CONNECTIONS_PERCENT", "70"), ("QKCHAT_MESSAGE_BATCH_SIZE", "100"));
        var changes = LiveReload.Apply(running, fresh, targets).ToDictionary(c => c.Key);
        Assert.True(changes["alert.cpu_percent"].Applied);
        Assert.True(changes["message.batch_size"].Applied);
        Assert.Equal(50, targets.Alerts.CpuPercent);
        Assert.Equal(70, targets.Alerts.ConnectionsPercent);
        Assert.Equal(90, targets.Alerts.MemoryPercent);
    }

    [Fact]
    public void Changed_live_keys_are_applied_in_place_and_restart_keys_are_reported_and_kept()
    {
        var running = Load();
        var targets = Targets(running);
        var fresh = Load(("QKCHAT_RATE_LIMIT_BURST", "5"), ("QKCHAT_LOG_LEVEL", "debug"), ("QKCHAT_PORT", "9999"),
            ("QKCHAT_MAX_CLIENTS", "50"), ("QKCHAT_LOGIN_FAILURES_PER_ACCOUNT", "4"), ("QKCHAT_AUDIT_RETENTION_DAYS", "7"),
            ("QKCHAT_IDLE_TIMEOUT_S", "120"), ("QKCHAT_DB_PASSWORD", "changed"));

        var changes = LiveReload.Apply(running, fresh, targets).ToDictionary(c => c.Key);

        Assert.Equal(("200", "5", true), (changes["server.rate_limit_burst"].Old, changes["server.rate_limit_burst"].New, changes["server.rate_limit_burst"].Applied));
        Assert.Equal(5, targets.Chat.RequestBurst);
        Assert.Equal(LogLevel.Debug, targets.LogLevel.Level);
        Assert.Equal(50, targets.Limiter.MaxClients);
        Assert.Equal(50, targets.Limiter.MaxPerIp); // clamped to max_clients by the whole-file check
        Assert.Equal(4, targets.LoginLimits.PerAccount);
        Assert.Equal(7, targets.Audit.RetentionDays);
        Assert.Equal(TimeSpan.FromSeconds(120), targets.Chat.IdleTimeout);
        Assert.False(changes["server.port"].Applied);
        Assert.Equal(8080, running.Transport.Port); // left as it was
        Assert.False(changes["db.password"].Applied);
        Assert.Equal("***", changes["db.password"].New); // never printed
        Assert.Equal(5, running.Chat.RequestBurst);

        // The same file again: only what still needs a restart is reported.
        var again = LiveReload.Apply(running, fresh, targets);
        Assert.All(again, c => Assert.False(c.Applied));
        Assert.Equal(["server.port", "db.password"], again.Select(c => c.Key).Order().Reverse());
    }
}
