using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>What a finished command printed and returned.</summary>
internal sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;

    /// <summary>Fails with everything the command printed unless it exited 0.</summary>
    public CommandResult EnsureSuccess(string what)
    {
        if (ExitCode != 0) throw new InvalidOperationException($"{what} exited {ExitCode}:\n{Output}");
        return this;
    }
}

/// <summary>
/// Any executable as a child process, for tests of what ships (scripts, dpkg, systemd-analyze, a binary unpacked
/// from a package) where <see cref="ServerProcess"/> would pick the checkout's own qkchatd. The child starts without
/// the runner's QKCHAT_* and NOTIFY_SOCKET variables, so only what a test passes reaches it.
/// </summary>
internal sealed partial class ExternalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    private ExternalProcess(Process process) => _process = process;

    public int ProcessId => _process.Id;

    public string Output
    {
        get { lock (_gate) return _output.ToString(); }
    }

    /// <summary>Runs a command to its end; kills it and throws after <paramref name="timeout"/>.</summary>
    public static async Task<CommandResult> RunAsync(string fileName, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var info = StartInfo(fileName, args, environment, workingDirectory);
        using var process = new Process { StartInfo = info };
        process.Start();
        ChildProcesses.Track(process);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish within {timeout}");
        }
        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts a long-running process whose combined output is collected for <see cref="WaitForOutputAsync"/>.</summary>
    public static ExternalProcess Start(string fileName, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var process = new Process { StartInfo = StartInfo(fileName, args, environment, workingDirectory) };
        var child = new ExternalProcess(process);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.Start();
        ChildProcesses.Track(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment, string? workingDirectory)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (string a in args) info.ArgumentList.Add(a);
        foreach (string key in info.Environment.Keys
                     .Where(k => k.StartsWith("QKCHAT_", StringComparison.Ordinal) || k is "NOTIFY_SOCKET" or "WATCHDOG_USEC" or "WATCHDOG_PID")
                     .ToList())
            info.Environment.Remove(key);
        // Debian keeps useradd and friends in /usr/sbin, which a test runner's PATH may lack.
        info.Environment["PATH"] = (info.Environment.TryGetValue("PATH", out var path) ? path + ":" : "") + "/usr/sbin:/sbin";
        if (environment is not null)
            foreach (var (k, v) in environment) info.Environment[k] = v;
        return info;
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
                throw new InvalidOperationException($"{_process.StartInfo.FileName} exited ({_process.ExitCode}) before printing '{text}':\n{Output}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{_process.StartInfo.FileName} did not print '{text}' within {timeout}:\n{Output}");
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
            throw new TimeoutException($"{_process.StartInfo.FileName} did not exit within {timeout}:\n{Output}");
        }
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0) throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

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
