using System.Net;
using System.Net.Sockets;
using System.Text;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Hosting;
using Xunit;

namespace QkChat.IntegrationTests.Packaging;

/// <summary>
/// The sd_notify messages the published qkchatd sends when started the way systemd starts a Type=notify unit: with
/// NOTIFY_SOCKET naming a datagram socket, here one of the test's own.
/// </summary>
public sealed class SystemdNotifyTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 60_000)]
    public async Task Ready_only_once_the_listener_accepts_then_watchdog_reload_and_stopping()
    {
        await using var db = await TempDatabase.CreateAsync();
        using var notify = NotifySocket.Bind(abstractName: false);
        int port = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["NOTIFY_SOCKET"] = notify.Address;
        env["WATCHDOG_USEC"] = "400000";
        await using var p = ServerProcess.Start(env);

        Assert.Equal("READY=1", await notify.ReceiveAsync(Patience));
        // The listener must accept and answer at the very moment READY=1 arrives, not some time later.
        using (var client = await RawClient.ConnectAsync(port))
        {
            await client.SendAsync(RawClient.Heartbeat("ready"));
            Assert.Equal("OK", (await client.ReadAsync()).Str("code"));
        }

        // WATCHDOG_USEC=400 ms: pings every 200 ms.
        Assert.Equal("WATCHDOG=1", await notify.ReceiveAsync(Patience));
        Assert.Equal("WATCHDOG=1", await notify.ReceiveAsync(TimeSpan.FromSeconds(2)));

        p.Signal(ServerProcess.SIGHUP);
        string reloading = await notify.ReceiveSkippingWatchdogAsync(Patience);
        Assert.Matches(@"^RELOADING=1\nMONOTONIC_USEC=\d+$", reloading);
        Assert.Equal("READY=1", await notify.ReceiveSkippingWatchdogAsync(Patience));
        await p.WaitForOutputAsync("configuration reloaded", Patience);

        p.Signal(ServerProcess.SIGTERM);
        Assert.Equal("STOPPING=1", await notify.ReceiveSkippingWatchdogAsync(Patience));
        Assert.Equal(0, await p.WaitForExitAsync(Patience));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_abstract_socket_name_receives_ready_and_stopping()
    {
        await using var db = await TempDatabase.CreateAsync();
        using var notify = NotifySocket.Bind(abstractName: true);
        var env = ServerProcess.StackEnvironment(db.Name, ServerProcess.FreePort());
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["NOTIFY_SOCKET"] = notify.Address;
        await using var p = ServerProcess.Start(env);

        Assert.Equal("READY=1", await notify.ReceiveAsync(Patience));
        p.Signal(ServerProcess.SIGTERM);
        Assert.Equal("STOPPING=1", await notify.ReceiveAsync(Patience));
        Assert.Equal(0, await p.WaitForExitAsync(Patience));
    }

    [Fact(Timeout = 60_000)]
    public async Task Nothing_is_sent_without_a_database_without_a_listener_or_by_migrate()
    {
        using var notify = NotifySocket.Bind(abstractName: false);
        var env = ServerProcess.StackEnvironment("qkchat_test", ServerProcess.FreePort());
        env["NOTIFY_SOCKET"] = notify.Address;
        env["QKCHAT_DB_PORT"] = ServerProcess.FreePort().ToString(); // nothing listens there
        env["QKCHAT_STARTUP_RETRY_S"] = "1";
        await using (var p = ServerProcess.Start(env))
            Assert.Equal(1, await p.WaitForExitAsync(Patience));
        Assert.Equal(0, notify.Pending);

        // The database answers but the chat port is taken: the listener never comes up, so neither may READY=1.
        await using var db = await TempDatabase.CreateAsync();
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        env = ServerProcess.StackEnvironment(db.Name, ((IPEndPoint)squatter.LocalEndpoint).Port);
        env["NOTIFY_SOCKET"] = notify.Address;
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        await using (var p = ServerProcess.Start(env))
        {
            Assert.Equal(1, await p.WaitForExitAsync(Patience));
            Assert.Contains("cannot start", p.Output);
        }
        Assert.Equal(0, notify.Pending);

        // ExecStartPre runs `qkchatd migrate` with the same NOTIFY_SOCKET: it must not claim readiness for the unit.
        env = ServerProcess.StackEnvironment(db.Name, ServerProcess.FreePort());
        env["NOTIFY_SOCKET"] = notify.Address;
        await using (var migrate = ServerProcess.Start(env, "migrate"))
            Assert.Equal(0, await migrate.WaitForExitAsync(Patience));
        Assert.Equal(0, notify.Pending);
    }

    [Theory]
    [InlineData("/run/systemd/notify", "/run/systemd/notify")]
    [InlineData("@/org/freedesktop/systemd1/notify/1", "\0/org/freedesktop/systemd1/notify/1")]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("@", null)]
    [InlineData("relative/path", null)]
    [InlineData("vsock:2:1234", null)]
    [InlineData("/tmp/a-path-longer-than-the-108-bytes-of-sun_path-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", null)]
    public void Notify_socket_values_map_to_paths_or_abstract_names(string? value, string? path)
    {
        var endPoint = SystemdNotify.ParseSocket(value);
        if (path is null) Assert.Null(endPoint);
        else Assert.Equal(new UnixDomainSocketEndPoint(path).Serialize().ToString(), endPoint!.Serialize().ToString());
    }

    /// <summary>A datagram socket standing in for systemd's notify socket: a file in /tmp, or an abstract name.</summary>
    private sealed class NotifySocket : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        private readonly string? _file;

        private NotifySocket(string address, string? file)
        {
            Address = address;
            _file = file;
        }

        /// <summary>The NOTIFY_SOCKET value, as systemd writes it.</summary>
        public string Address { get; }

        public int Pending => _socket.Available;

        public static NotifySocket Bind(bool abstractName)
        {
            string name = "qkchat-notify-" + Guid.NewGuid().ToString("N")[..12];
            if (abstractName)
            {
                var s = new NotifySocket("@" + name, null);
                s._socket.Bind(new UnixDomainSocketEndPoint("\0" + name));
                return s;
            }
            string file = Path.Combine(Path.GetTempPath(), name + ".sock");
            var socket = new NotifySocket(file, file);
            socket._socket.Bind(new UnixDomainSocketEndPoint(file));
            return socket;
        }

        public async Task<string> ReceiveAsync(TimeSpan timeout)
        {
            var buffer = new byte[4096];
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                return Encoding.UTF8.GetString(buffer, 0, n);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no notify message within {timeout}");
            }
        }

        public async Task<string> ReceiveSkippingWatchdogAsync(TimeSpan timeout)
        {
            while (true)
            {
                string message = await ReceiveAsync(timeout);
                if (message != "WATCHDOG=1") return message;
            }
        }

        public void Dispose()
        {
            _socket.Dispose();
            if (_file is not null) File.Delete(_file);
        }
    }
}
