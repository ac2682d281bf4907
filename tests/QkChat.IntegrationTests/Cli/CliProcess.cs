using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace QkChat.IntegrationTests.Cli;

/// <summary>
/// The published `qkchat` as a child process with piped stdin, the way a script (or a person typing in a terminal)
/// feeds it: <see cref="Send"/> writes lines while the process keeps running, so a test can wait for what it printed
/// before typing the next command. Standard output and error are collected together, line by line. Like
/// ExternalProcess, the child starts without the runner's QKCHAT_* variables (qkchat reads QKCHAT_HOST and
/// QKCHAT_PORT). Disposing kills it if it is still running.
/// </summary>
internal sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    private CliProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    /// <summary>Who this is in failure messages ("alice's qkchat").</summary>
    public string Name { get; }

    public string Output
    {
        get { lock (_gate) return _output.ToString(); }
    }

    /// <summary>How much has been printed so far: pass it to a wait to look only at what comes after.</summary>
    public int Mark => Output.Length;

    public static CliProcess Start(string fileName, string name, params string[] args)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // No byte-order mark in front of the first command.
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (string a in args) info.ArgumentList.Add(a);
        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("QKCHAT_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        var process = new Process { StartInfo = info };
        var child = new CliProcess(process, name);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.Start();
        Infrastructure.ChildProcesses.Track(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Types lines on stdin (each ends with a newline) and keeps stdin open.</summary>
    public void Send(params string[] lines)
    {
        foreach (string line in lines) _process.StandardInput.Write(line + "\n");
        _process.StandardInput.Flush();
    }

    /// <summary>Waits until the output after <paramref name="from"/> matches; fails with everything printed otherwise.</summary>
    public async Task<Match> WaitForAsync(Regex pattern, int from = 0, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(10);
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            bool exited = _process.HasExited;   // read before the output: a process that printed and then exited is seen printed
            string output = Output;
            var match = pattern.Match(output, Math.Min(from, output.Length));
            if (match.Success) return match;
            if (exited)
                throw new InvalidOperationException($"{Name} exited ({_process.ExitCode}) before printing /{pattern}/:\n{Output}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{Name} did not print /{pattern}/ within {limit}:\n{Output}");
            await Task.Delay(20);
        }
    }

    public Task<Match> WaitForAsync(string text, int from = 0, TimeSpan? timeout = null) =>
        WaitForAsync(new Regex(Regex.Escape(text)), from, timeout);

    /// <summary>Ends the input (as a script's end, or Ctrl-D) and waits for the exit code.</summary>
    public async Task<int> EndInputAsync(TimeSpan timeout)
    {
        _process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout} of the end of its input:\n{Output}");
        }
        _process.WaitForExit();   // drains the redirected output
        return _process.ExitCode;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_gate) _output.Append(line).Append('\n');
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Never started, or already gone.
        }
        _process.Dispose();
    }
}
