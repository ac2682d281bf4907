using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace QkChat.Server.Hosting;

/// <summary>
/// The sd_notify protocol spoken directly: one datagram of "KEY=VALUE" lines to the AF_UNIX socket systemd names in
/// $NOTIFY_SOCKET (Type=notify units). Without that variable every call is a no-op, so a server started by hand, by
/// tests or by another supervisor behaves exactly as before. Failures are swallowed like sd_notify(3) does: a
/// supervisor that vanished must not take the server down with it.
/// </summary>
public static class SystemdNotify
{
    /// <summary>Read once: systemd sets it before exec and nothing in this process changes it.</summary>
    private static readonly UnixDomainSocketEndPoint? Target = ParseSocket(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    public static bool Enabled => Target is not null;

    private const int Starting = 0, Running = 1, Stopped = 2;
    private static int _phase = Starting;

    /// <summary>Start-up finished: the listeners accept and the backends answered.</summary>
    public static bool Ready()
    {
        if (Interlocked.CompareExchange(ref _phase, Running, Starting) != Starting) return false;
        return Send("READY=1");
    }

    public static bool Stopping()
    {
        Interlocked.Exchange(ref _phase, Stopped);
        return Send("STOPPING=1");
    }

    /// <summary>
    /// A SIGHUP reload began. Only reported while running: a SIGHUP during start-up or shutdown must not make
    /// <see cref="Reloaded"/> announce READY=1 early or after STOPPING=1. MONOTONIC_USEC is what systemd 253+
    /// (Type=notify-reload) needs to match the message to its own reload request; older versions ignore it.
    /// </summary>
    public static bool Reloading() =>
        Volatile.Read(ref _phase) == Running
        && Send("RELOADING=1\nMONOTONIC_USEC=" + MonotonicMicroseconds().ToString(CultureInfo.InvariantCulture));

    /// <summary>The reload finished, applied or rejected: the server serves again.</summary>
    public static bool Reloaded() => Volatile.Read(ref _phase) == Running && Send("READY=1");

    /// <summary>CLOCK_MONOTONIC, which is what Stopwatch reads on Linux and what systemd compares against.</summary>
    private static long MonotonicMicroseconds() => (long)((Int128)Stopwatch.GetTimestamp() * 1_000_000 / Stopwatch.Frequency);

    /// <summary>
    /// Pings WATCHDOG=1 every half of $WATCHDOG_USEC (the margin sd_watchdog_enabled(3) recommends) from a thread-pool
    /// timer, so a starved or hung thread pool stops the pings and systemd restarts the process. Null when no watchdog
    /// is asked for, or when $WATCHDOG_PID names another process (the variable was inherited, not meant for us).
    /// </summary>
    public static IDisposable? StartWatchdog()
    {
        if (Target is null) return null;
        if (!long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out long usec) || usec <= 0)
            return null;
        string? pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (pid is not null && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture)) return null;
        var period = TimeSpan.FromMicroseconds(usec / 2);
        return new Timer(static _ => Send("WATCHDOG=1"), null, TimeSpan.Zero, period);
    }

    /// <summary>Sends one state message; false when not under systemd or when the socket refused it.</summary>
    public static bool Send(string state)
    {
        if (Target is null) return false;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), Target);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// "/path" is a socket file; "@name" is Linux's abstract namespace, whose address starts with a NUL byte instead
    /// of the '@'. Anything else (unset, empty, or a form such as vsock: that systemd may add) disables notification.
    /// </summary>
    internal static UnixDomainSocketEndPoint? ParseSocket(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length < 2) return null;
        try
        {
            return value[0] switch
            {
                '/' => new UnixDomainSocketEndPoint(value),
                '@' => new UnixDomainSocketEndPoint("\0" + value[1..]),
                _ => null,
            };
        }
        catch (ArgumentException)
        {
            // Longer than sun_path allows: no supervisor could have bound it, and a bad value must not stop the server.
            return null;
        }
    }
}
