using System.Text;

namespace QkChat.Cli;

/// <summary>Where command lines (and passwords) come from.</summary>
internal interface ILineInput
{
    /// <summary>A person at a terminal: prompts are shown and passwords are read without echo.</summary>
    bool Interactive { get; }

    /// <summary>The next line, or null at the end of input.</summary>
    Task<string?> ReadLineAsync(CancellationToken ct);

    /// <summary>A password: without echo at a terminal, else simply the next line. Null at the end of input.</summary>
    Task<string?> ReadSecretAsync(string prompt, CancellationToken ct);
}

/// <summary>Lines from a reader (piped stdin, a script, a test): a password is the next line.</summary>
internal sealed class ReaderInput(TextReader reader) : ILineInput
{
    public bool Interactive => false;

    public async Task<string?> ReadLineAsync(CancellationToken ct) => await reader.ReadLineAsync(ct).ConfigureAwait(false);

    public Task<string?> ReadSecretAsync(string prompt, CancellationToken ct) => ReadLineAsync(ct);
}

/// <summary>A terminal on stdin: lines as typed, passwords read key by key without echo.</summary>
internal sealed class TerminalInput(LineOutput output) : ILineInput
{
    public bool Interactive => true;

    public Task<string?> ReadLineAsync(CancellationToken ct) => Task.FromResult(Console.ReadLine());

    public Task<string?> ReadSecretAsync(string prompt, CancellationToken ct)
    {
        output.Prompt(prompt);
        var secret = new StringBuilder();
        while (true)
        {
            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    output.EndPrompt();
                    output.Line("");   // the key was not echoed, so neither was the end of the line
                    return Task.FromResult<string?>(secret.ToString());
                case ConsoleKey.Backspace:
                    if (secret.Length > 0) secret.Length--;
                    break;
                case ConsoleKey.Escape:
                    secret.Clear();
                    break;
                default:
                    if (key.KeyChar == '\u0004' && secret.Length == 0)   // Ctrl-D on an empty password: end of input
                    {
                        output.EndPrompt();
                        output.Line("");
                        return Task.FromResult<string?>(null);
                    }
                    if (!char.IsControl(key.KeyChar)) secret.Append(key.KeyChar);
                    break;
            }
        }
    }
}

/// <summary>
/// Every line goes out whole and is flushed at once (scripts and tests read the output as it comes). Pushes print
/// from another task than commands, so writes are serialized; at a terminal a push that lands while the prompt is
/// shown is written above it and the prompt is drawn again.
/// </summary>
internal sealed class LineOutput(TextWriter writer, bool redrawPrompt, bool terminal = false)
{
    private readonly Lock _lock = new();
    private string? _prompt;

    /// <summary>Output goes to a terminal: a progress bar is redrawn in place (<see cref="Status"/>); otherwise plain lines.</summary>
    public bool Terminal => terminal;

    /// <summary>
    /// At a terminal: shows <paramref name="text"/> on the current line in place of what was there (a progress bar),
    /// kept under lines printed meanwhile; null clears it. Elsewhere nothing (callers print plain lines instead).
    /// </summary>
    public void Status(string? text)
    {
        if (!terminal) return;
        lock (_lock)
        {
            writer.Write("\r\u001b[2K");
            if (text is not null) writer.Write(text);
            _prompt = text;
            writer.Flush();
        }
    }

    public void Line(string text)
    {
        lock (_lock)
        {
            bool redraw = _prompt is not null && (redrawPrompt || terminal);
            if (redraw) writer.Write("\r\u001b[2K");
            writer.Write(text);
            writer.Write('\n');
            if (redraw) writer.Write(_prompt);
            writer.Flush();
        }
    }

    public void Lines(IEnumerable<string> lines)
    {
        lock (_lock)
        {
            foreach (string line in lines) Line(line);
        }
    }

    /// <summary>Shows a prompt (no newline) until <see cref="EndPrompt"/>: the user is typing after it.</summary>
    public void Prompt(string prompt)
    {
        lock (_lock)
        {
            _prompt = prompt;
            writer.Write(prompt);
            writer.Flush();
        }
    }

    /// <summary>The typed line was entered: output no longer needs to keep the prompt below it.</summary>
    public void EndPrompt()
    {
        lock (_lock) _prompt = null;
    }
}
