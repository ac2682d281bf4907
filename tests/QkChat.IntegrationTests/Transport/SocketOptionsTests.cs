using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Transport;

/// <summary>
/// Socket options read back from the kernel rather than trusted from the code that sets them: TCP_NODELAY on the
/// server's side of an accepted connection, and the listen backlog.
/// </summary>
public sealed partial class SocketOptionsTests
{
    private const int IpProtoTcp = 6, TcpNoDelay = 1;

    [Fact(Timeout = 60_000)]
    public async Task Accepted_sockets_have_nagle_turned_off()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "reads /proc");
        await using var server = InProcessServer.Start();
        using var client = await server.ConnectAsync();
        await client.SendAsync(RawClient.Heartbeat("1"));
        await client.ReadAsync(); // accepted and opened on its reactor

        // The server's socket lives in this process: find its descriptor by the kernel's socket inode.
        int clientPort = ((IPEndPoint)client.Socket.LocalEndPoint!).Port;
        long inode = ServerSideInode(server.Port, clientPort);
        int fd = DescriptorOf(inode);
        Assert.True(NoDelay(fd), "TCP_NODELAY is off on the accepted socket");

        // The probe can tell the difference: a socket with Nagle left on reads as such.
        using var plain = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = false };
        Assert.False(NoDelay((int)plain.Handle));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_listener_uses_the_configured_backlog()
    {
        // Not the default (1024) and far below net.core.somaxconn, which would cap it.
        await using var server = InProcessServer.Start(t => t.Backlog = 37);
        // For a listening socket, ss shows the backlog as Send-Q (the kernel's sk_max_ack_backlog).
        var line = Run("ss", "-ltnH", $"sport = :{server.Port}").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var fields = Assert.Single(line).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("LISTEN", fields[0]);
        Assert.Equal("37", fields[2]);
    }

    /// <summary>The inode of the established socket 127.0.0.1:serverPort -> clientPort, from /proc/net/tcp.</summary>
    private static long ServerSideInode(int serverPort, int clientPort)
    {
        foreach (var row in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
            var f = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (PortOf(f[1]) == serverPort && PortOf(f[2]) == clientPort && f[3] == "01") return long.Parse(f[9], CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException($"no established socket :{serverPort} -> :{clientPort}");
    }

    private static int PortOf(string hexAddress) => int.Parse(hexAddress[(hexAddress.IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static int DescriptorOf(long inode)
    {
        string target = $"socket:[{inode}]";
        foreach (var path in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(path).LinkTarget == target) return int.Parse(Path.GetFileName(path), CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // closed while we looked
            }
        }
        throw new InvalidOperationException($"no descriptor of this process is {target}");
    }

    private static bool NoDelay(int fd)
    {
        int value = 0, length = sizeof(int);
        if (GetSockOpt(fd, IpProtoTcp, TcpNoDelay, ref value, ref length) != 0)
            throw new InvalidOperationException($"getsockopt failed: errno {Marshal.GetLastPInvokeError()}");
        return value != 0;
    }

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static partial int GetSockOpt(int fd, int level, int name, ref int value, ref int length);

    private static string Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = ChildProcesses.Track(Process.Start(start)!);
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} failed: {process.StandardError.ReadToEnd()}");
        return output;
    }
}
