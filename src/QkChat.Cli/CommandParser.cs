using System.Globalization;
using System.Text;
using System.Text.Json;

namespace QkChat.Cli;

/// <summary>What an argument must look like; the parser checks it so that handlers get well-formed values.</summary>
internal enum ParamKind
{
    /// <summary>Any non-empty word (a quoted one may hold spaces).</summary>
    Word,

    /// <summary>A positive integer below 2^53 (message and friend request ids).</summary>
    Id,

    /// <summary>An integer between <see cref="Param.Min"/> and <see cref="Param.Max"/>.</summary>
    Count,

    /// <summary>online, busy, away or invisible.</summary>
    Status,

    /// <summary>The rest of the line, as typed (or unquoted when it is one quoted string). Only as the last parameter.</summary>
    Text,

    /// <summary>The rest of the line, which must be a JSON object. Only as the last parameter.</summary>
    JsonObject,
}

internal sealed record Param(string Name, ParamKind Kind = ParamKind.Word, bool Optional = false, int Min = 1, int Max = int.MaxValue)
{
    public string Usage => Optional ? $"[{Shown}]" : $"<{Shown}>";
    private string Shown => Kind == ParamKind.Status ? "online|busy|away|invisible" : Name;
    public bool TakesRest => Kind is ParamKind.Text or ParamKind.JsonObject;
}

internal sealed record CommandSpec(string Name, string Help, params Param[] Params)
{
    public string Usage => Params.Length == 0 ? "/" + Name : $"/{Name} {string.Join(' ', Params.Select(p => p.Usage))}";
}

/// <summary>One parsed line: a command name and its arguments by parameter name (absent optional ones are missing).</summary>
internal sealed record Command(string Name, IReadOnlyDictionary<string, string> Args)
{
    public string? this[string param] => Args.TryGetValue(param, out string? v) ? v : null;

    /// <summary>A plain line (no leading slash): text for the current chat.</summary>
    public const string Say = "say";
}

/// <summary>Either a command or the reason the line is not one (with the command's usage).</summary>
internal readonly record struct ParseResult(Command? Command, string? Error)
{
    public static ParseResult Nothing => default;
    public bool IsEmpty => Command is null && Error is null;
}

/// <summary>
/// Turns a typed line into a <see cref="Command"/>. Pure: no I/O, no state. A line starting with "/" is a command,
/// "//" escapes a message that starts with a slash, anything else is a message for the current chat.
/// Words are split on spaces; "double quotes" (with \" and \\ escapes) and 'single quotes' group words.
/// </summary>
internal static class CommandParser
{
    private static readonly string[] Statuses = ["online", "busy", "away", "invisible"];

    public static readonly IReadOnlyList<CommandSpec> Specs =
    [
        new("help", "list the commands, or explain one", new Param("command", Optional: true)),
        new("code", "e-mail a registration code to this address", new Param("email")),
        new("register", "create an account with the e-mailed code (the password is asked for when left out)",
            new Param("username"), new Param("email"), new Param("password", Optional: true), new Param("code")),
        new("login", "log in with a username or e-mail (the password is asked for when left out)",
            new Param("user-or-email"), new Param("password", Optional: true), new Param("client_id", Optional: true)),
        new("logout", "log out this device (the server then closes the connection)"),
        new("whoami", "who is logged in, and where"),
        new("search", "find users by username prefix, exact e-mail or user id", new Param("query")),
        new("add", "send a friend request (to a username, e-mail or user id)",
            new Param("user"), new Param("message", ParamKind.Text, Optional: true)),
        new("requests", "pending friend requests, incoming and outgoing"),
        new("accept", "accept an incoming friend request", new Param("request_id", ParamKind.Id)),
        new("reject", "decline an incoming friend request", new Param("request_id", ParamKind.Id)),
        new("friends", "your friends and their status"),
        new("unfriend", "remove a friend (by user id or name)", new Param("user")),
        new("status", "set your presence", new Param("status", ParamKind.Status)),
        new("chat", "talk to a friend (by user id or name): plain lines are then sent to them", new Param("user")),
        new("history", "the last n messages with the current chat (default 20)", new Param("n", ParamKind.Count, Optional: true, Max: 100)),
        new("conversations", "your chats, most recent first, with unread counts"),
        new("read", "mark the current chat read up to the newest message shown"),
        new("recall", "take back a message you sent in the last 120 s", new Param("message_id", ParamKind.Id)),
        new("sessions", "your logged-in devices"),
        new("groups", "your groups, with unread counts"),
        new("gcreate", "create a group, optionally with friends (user ids)",
            new Param("name"), new Param("user_ids", ParamKind.Text, Optional: true)),
        new("gadd", "add friends (user ids) to a group", new Param("group_id", ParamKind.Id), new Param("user_ids", ParamKind.Text)),
        new("gleave", "leave a group", new Param("group_id", ParamKind.Id)),
        new("gmembers", "a group's members", new Param("group_id", ParamKind.Id)),
        new("gsend", "send a message to a group", new Param("group_id", ParamKind.Id), new Param("text", ParamKind.Text)),
        new("ghistory", "the last n entries of a group (default 20), and mark them read",
            new Param("group_id", ParamKind.Id), new Param("n", ParamKind.Count, Optional: true, Max: 100)),
        new("gchat", "make a group the current chat: plain lines and /send-file go to it", new Param("group_id", ParamKind.Id)),
        new("send-file", "upload a file and send it to the current chat (resumes after a cut), with an optional caption",
            new Param("path"), new Param("caption", ParamKind.Text, Optional: true)),
        new("get-file", "download a file you can see into PATH (a file or a directory; default: its name here); resumes a partial one",
            new Param("file_id", ParamKind.Id), new Param("path", Optional: true)),
        new("wait", "(scripts) wait until a push of this name arrives (default 10 s)",
            new Param("push"), new Param("seconds", ParamKind.Count, Optional: true, Max: 600)),
        new("raw", "send any action with a JSON object of fields and print the raw answer",
            new Param("action"), new Param("fields", ParamKind.JsonObject, Optional: true)),
        new("quit", "leave (also /exit, or end of input)"),
    ];

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["exit"] = "quit",
        ["q"] = "quit",
        ["h"] = "help",
        ["?"] = "help",
    };

    public static CommandSpec? Find(string name)
    {
        name = name.TrimStart('/');
        if (Aliases.TryGetValue(name, out string? real)) name = real;
        return Specs.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
    }

    public static ParseResult Parse(string? line)
    {
        if (line is null) return ParseResult.Nothing;
        line = line.TrimEnd('\r', '\n');
        if (line.Length == 0 || string.IsNullOrWhiteSpace(line)) return ParseResult.Nothing;
        if (!line.StartsWith('/')) return Say(line);
        if (line.StartsWith("//", StringComparison.Ordinal)) return Say(line[1..]);

        int nameEnd = 1;
        while (nameEnd < line.Length && !char.IsWhiteSpace(line[nameEnd])) nameEnd++;
        string name = line[1..nameEnd];
        if (name.Length == 0) return new ParseResult(null, "a command follows the slash: /help lists them");
        CommandSpec? spec = Find(name);
        if (spec is null) return new ParseResult(null, $"unknown command /{name}: /help lists the commands");
        return ParseArgs(spec, line, nameEnd);
    }

    private static ParseResult Say(string text) =>
        new(new Command(Command.Say, new Dictionary<string, string> { ["text"] = text }), null);

    private static ParseResult ParseArgs(CommandSpec spec, string line, int start)
    {
        // The last parameter may take the rest of the line: the words before it are split off, the rest stays as
        // typed (so a message may hold an apostrophe or a quote), unless it is one quoted string.
        Param[] ps = spec.Params;
        Param? rest = ps.Length > 0 && ps[^1].TakesRest ? ps[^1] : null;
        Param[] words = rest is null ? ps : ps[..^1];
        List<Token> tokens;
        int stop;
        try
        {
            (tokens, stop) = Tokenize(line, start, rest is null ? int.MaxValue : words.Length);
        }
        catch (FormatException e)
        {
            return Fail(spec, e.Message);
        }
        string? restText = rest is null ? null : Unquote(line[stop..].Trim());

        int required = words.Count(p => !p.Optional);
        int optional = words.Length - required;
        if (tokens.Count < required)
            return Fail(spec, "missing " + words.Where(p => !p.Optional).ElementAt(tokens.Count).Usage);
        if (tokens.Count > required + optional)
            return Fail(spec, "too many arguments (a message or name with spaces goes in \"quotes\")");

        // With k words, the required parameters are filled, then the first (k - required) optional ones, in order.
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        int extra = tokens.Count - required, next = 0;
        foreach (Param p in words)
        {
            if (p.Optional)
            {
                if (extra == 0) continue;
                extra--;
            }
            args[p.Name] = tokens[next++].Value;
        }
        if (rest is not null && restText is { Length: > 0 }) args[rest.Name] = restText;
        else if (rest is { Optional: false }) return Fail(spec, "missing " + rest.Usage);

        foreach (Param p in ps)
        {
            if (args.TryGetValue(p.Name, out string? value) && Check(p, value) is { } problem)
                return Fail(spec, problem);
        }
        if (args.TryGetValue("status", out string? status)) args["status"] = status.ToLowerInvariant();
        return new ParseResult(new Command(spec.Name, args), null);
    }

    private static string? Check(Param p, string value)
    {
        switch (p.Kind)
        {
            case ParamKind.Word or ParamKind.Text:
                return value.Length == 0 ? $"{p.Usage} is empty" : null;
            case ParamKind.Id:
                return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long id) && id > 0 && id < (1L << 53)
                    ? null
                    : $"{p.Usage} must be a positive number, not '{value}'";
            case ParamKind.Count:
                return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= p.Min && n <= p.Max
                    ? null
                    : $"{p.Usage} must be a number from {p.Min} to {p.Max}, not '{value}'";
            case ParamKind.Status:
                return Statuses.Contains(value, StringComparer.OrdinalIgnoreCase) ? null : $"the status is one of online, busy, away, invisible, not '{value}'";
            case ParamKind.JsonObject:
                try
                {
                    using var doc = JsonDocument.Parse(value);
                    return doc.RootElement.ValueKind == JsonValueKind.Object ? null : $"{p.Usage} must be a JSON object like {{\"limit\": 5}}";
                }
                catch (JsonException)
                {
                    return $"{p.Usage} is not valid JSON: write a JSON object like {{\"limit\": 5}}";
                }
            default:
                return null;
        }
    }

    private static ParseResult Fail(CommandSpec spec, string reason) => new(null, $"{reason}; usage: {spec.Usage}");

    private readonly record struct Token(string Value, bool Quoted);

    /// <summary>One quoted string spanning all of <paramref name="text"/> loses its quotes; anything else is kept as typed.</summary>
    private static string Unquote(string text)
    {
        if (text.Length < 2 || text[0] is not ('"' or '\'')) return text;
        try
        {
            (List<Token> tokens, int stop) = Tokenize(text, 0, int.MaxValue);
            return tokens.Count == 1 && tokens[0].Quoted && stop == text.Length ? tokens[0].Value : text;
        }
        catch (FormatException)
        {
            return text;
        }
    }

    /// <summary>
    /// Splits line[start..] into at most <paramref name="max"/> words; quotes group words and are removed. Returns the
    /// words and where it stopped. Throws FormatException on a quote left open.
    /// </summary>
    private static (List<Token> Tokens, int Stop) Tokenize(string line, int start, int max)
    {
        var tokens = new List<Token>();
        var word = new StringBuilder();
        int i = start;
        while (i < line.Length && tokens.Count < max)
        {
            while (i < line.Length && char.IsWhiteSpace(line[i])) i++;
            if (i == line.Length) break;
            bool quoted = false, wholeQuoted = line[i] is '"' or '\'';
            word.Clear();
            while (i < line.Length && !char.IsWhiteSpace(line[i]))
            {
                char c = line[i];
                if (c is '"' or '\'')
                {
                    int close = FindClose(line, i + 1, c, word);
                    if (close < 0) throw new FormatException($"a {c} quote is not closed");
                    quoted = true;
                    if (close + 1 < line.Length && !char.IsWhiteSpace(line[close + 1])) wholeQuoted = false;
                    i = close + 1;
                }
                else
                {
                    word.Append(c);
                    i++;
                }
            }
            tokens.Add(new Token(word.ToString(), quoted && wholeQuoted));
        }
        return (tokens, i);
    }

    /// <summary>Appends the quoted text after <paramref name="from"/> to <paramref name="word"/>; returns the closing quote's index or -1.</summary>
    private static int FindClose(string line, int from, char quote, StringBuilder word)
    {
        for (int i = from; i < line.Length; i++)
        {
            char c = line[i];
            if (c == quote) return i;
            if (quote == '"' && c == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\')
            {
                word.Append(line[++i]);
                continue;
            }
            word.Append(c);
        }
        return -1;
    }
}
