using System.Text;
using System.Threading.Channels;
using QkChat.Cli;

namespace QkChat.Tests.Cli;

/// <summary>A clock stopped at 2026-03-01 12:00:00 UTC, in UTC: printed times are predictable.</summary>
internal sealed class FixedClock : TimeProvider
{
    public static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static long NowMs => Now.ToUnixTimeMilliseconds();

    public override DateTimeOffset GetUtcNow() => Now;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}

/// <summary>What the client printed, line by line, safe to read while the push loop writes.</summary>
internal sealed class CapturedOutput : TextWriter
{
    private readonly Lock _lock = new();
    private readonly StringBuilder _text = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_lock) _text.Append(value);
    }

    public override void Write(string? value)
    {
        lock (_lock) _text.Append(value);
    }

    public string Text
    {
        get
        {
            lock (_lock) return _text.ToString();
        }
    }

    public string[] Lines => Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Waits until a printed line contains <paramref name="fragment"/>.</summary>
    public async Task<string> WaitForLineAsync(string fragment)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            if (Lines.FirstOrDefault(l => l.Contains(fragment, StringComparison.Ordinal)) is { } line) return line;
            if (timeout.IsCancellationRequested) throw new TimeoutException($"no line with '{fragment}' in:\n{Text}");
            await Task.Delay(10);
        }
    }
}

/// <summary>Lines given to the client one at a time, as a person (or a slow pipe) would type them.</summary>
internal sealed class ScriptedInput : ILineInput
{
    private readonly Channel<string?> _lines = Channel.CreateUnbounded<string?>();

    public bool Interactive => false;

    public void Type(params string[] lines)
    {
        foreach (string line in lines) _lines.Writer.TryWrite(line);
    }

    public void End() => _lines.Writer.TryWrite(null);

    public async Task<string?> ReadLineAsync(CancellationToken ct) => await _lines.Reader.ReadAsync(ct);

    public Task<string?> ReadSecretAsync(string prompt, CancellationToken ct) => ReadLineAsync(ct);
}
