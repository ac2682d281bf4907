using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>
/// qkchatd as a child process (the published AOT binary when available), with its output captured so tests can
/// wait for "ready" and read what it logged. Disposing kills it if it is still running.
/// </summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    private ServerProcess(Process process) => _process = process;

    public int ProcessId => _process.Id;

    public string Output
    {
        get { lock (_gate) return _output.ToString(); }
    }

    /// <summary>Environment for a server on the private stack, in database <paramref name="database"/>, logging to a temp dir.</summary>
    public static Dictionary<string, string> StackEnvironment(string database, int port) => new()
    {
        ["QKCHAT_DB_HOST"] = TestStack.DbHost,
        ["QKCHAT_DB_PORT"] = TestStack.DbPort.ToString(),
        ["QKCHAT_DB_USER"] = TestStack.DbUser,
        ["QKCHAT_DB_PASSWORD_FILE"] = TestStack.DbPasswordFile,
        ["QKCHAT_DB_NAME"] = database,
        ["QKCHAT_REDIS_HOST"] = TestStack.RedisHost,
        ["QKCHAT_REDIS_PORT"] = TestStack.RedisPort.ToString(),
        ["QKCHAT_PORT"] = port.ToString(),
        ["QKCHAT_LOG_TO_FILE"] = "false",
        // An empty config file: the test sees the built-in defaults, not the checkout's config/server.json.
        ["QKCHAT_CONFIG_PATH"] = EmptyConfig.Value,
    };

    private static readonly Lazy<string> EmptyConfig = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), "qkchat-test-empty.json");
        File.WriteAllText(path, "{}");
        return path;
    });

    public static ServerProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var (fileName, prefix) = TestStack.ServerCommand();
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (prefix.Length > 0) info.ArgumentList.Add(prefix);
        foreach (string a in args) info.ArgumentList.Add(a);
        // Start from a clean slate: the test runner's own QKCHAT_* variables must not leak into the server.
        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("QKCHAT_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        foreach (var (k, v) in environment) info.Environment[k] = v;

        var process = new Process { StartInfo = info };
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_gate) _output.AppendLine(line);
    }

    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited && !Output.Contains(text, StringComparison.Ordinal))
                throw new InvalidOperationException($"qkchatd exited ({_process.ExitCode}) before printing '{text}':\n{Output}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"qkchatd did not print '{text}' within {timeout}:\n{Output}");
            await Task.Delay(20);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"qkchatd did not exit within {timeout}:\n{Output}");
        }
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0) throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed");
    }

    public const int SIGHUP = 1, SIGINT = 2, SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
