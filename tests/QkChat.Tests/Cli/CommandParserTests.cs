using QkChat.Cli;
using Xunit;

namespace QkChat.Tests.Cli;

public sealed class CommandParserTests
{
    /// <summary>One well-formed line per command: the name it parses to and its arguments as "name=value" pairs.</summary>
    public static TheoryData<string, string, string[]> Valid => new()
    {
        { "/help", "help", [] },
        { "/help login", "help", ["command=login"] },
        { "/code me@example.org", "code", ["email=me@example.org"] },
        { "/register alice a@x.org s3cret-pass 123456", "register", ["username=alice", "email=a@x.org", "password=s3cret-pass", "code=123456"] },
        { "/register alice a@x.org 123456", "register", ["username=alice", "email=a@x.org", "code=123456"] },
        { "/login alice", "login", ["user-or-email=alice"] },
        { "/login alice pw", "login", ["user-or-email=alice", "password=pw"] },
        { "/login a@x.org pw laptop", "login", ["user-or-email=a@x.org", "password=pw", "client_id=laptop"] },
        { "/logout", "logout", [] },
        { "/whoami", "whoami", [] },
        { "/search ali", "search", ["query=ali"] },
        { "/add bob", "add", ["user=bob"] },
        { "/add bob hi there, it's alice", "add", ["user=bob", "message=hi there, it's alice"] },
        { "/requests", "requests", [] },
        { "/accept 7", "accept", ["request_id=7"] },
        { "/reject 8", "reject", ["request_id=8"] },
        { "/friends", "friends", [] },
        { "/unfriend bob", "unfriend", ["user=bob"] },
        { "/status BUSY", "status", ["status=busy"] },
        { "/chat 123456789", "chat", ["user=123456789"] },
        { "/history", "history", [] },
        { "/history 50", "history", ["n=50"] },
        { "/conversations", "conversations", [] },
        { "/read", "read", [] },
        { "/recall 42", "recall", ["message_id=42"] },
        { "/sessions", "sessions", [] },
        { "/groups", "groups", [] },
        { "/gcreate climbing", "gcreate", ["name=climbing"] },
        { "/gcreate \"rock climbing\" 123456789 987654321", "gcreate", ["name=rock climbing", "user_ids=123456789 987654321"] },
        { "/gadd 7 123456789", "gadd", ["group_id=7", "user_ids=123456789"] },
        { "/gleave 7", "gleave", ["group_id=7"] },
        { "/gmembers 7", "gmembers", ["group_id=7"] },
        { "/gsend 7 see you at 6, ok?", "gsend", ["group_id=7", "text=see you at 6, ok?"] },
        { "/ghistory 7", "ghistory", ["group_id=7"] },
        { "/ghistory 7 50", "ghistory", ["group_id=7", "n=50"] },
        { "/gchat 7", "gchat", ["group_id=7"] },
        { "/send-file notes.txt", "send-file", ["path=notes.txt"] },
        { "/send-file \"my plan.pdf\" for saturday", "send-file", ["path=my plan.pdf", "caption=for saturday"] },
        { "/get-file 42", "get-file", ["file_id=42"] },
        { "/get-file 42 /tmp/x.bin", "get-file", ["file_id=42", "path=/tmp/x.bin"] },
        { "/wait message", "wait", ["push=message"] },
        { "/wait message_status 3", "wait", ["push=message_status", "seconds=3"] },
        { "/raw get_unread_counts", "raw", ["action=get_unread_counts"] },
        { """/raw search_users {"query": "al", "limit": 5}""", "raw", ["action=search_users", """fields={"query": "al", "limit": 5}"""] },
        { "/quit", "quit", [] },
        { "/exit", "quit", [] },
        { "hello there", "say", ["text=hello there"] },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Parses_every_command(string line, string name, string[] args)
    {
        ParseResult result = CommandParser.Parse(line);
        Assert.Null(result.Error);
        Assert.Equal(name, result.Command!.Name);
        Assert.Equal(args.Order(), result.Command.Args.Select(a => $"{a.Key}={a.Value}").Order());
    }

    [Fact]
    public void Every_command_in_the_table_has_a_parsing_case()
    {
        var covered = Valid.Select(row => (string)row.Data.Item2).ToHashSet();
        Assert.All(CommandParser.Specs, spec => Assert.Contains(spec.Name, covered));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void Blank_lines_are_nothing(string? line) => Assert.True(CommandParser.Parse(line).IsEmpty);

    [Theory]
    [InlineData("hello", "hello")]
    [InlineData("  spaced  out  ", "  spaced  out  ")]           // a message is sent as typed
    [InlineData("//etc/hosts is a file", "/etc/hosts is a file")] // "//" escapes a leading slash
    [InlineData("it's \"quoted\"", "it's \"quoted\"")]
    [InlineData("你好，世界", "你好，世界")]
    public void A_plain_line_is_a_message_as_typed(string line, string text)
    {
        Command command = CommandParser.Parse(line).Command!;
        Assert.Equal((Command.Say, text), (command.Name, command["text"]));
    }

    [Theory]
    [InlineData("/add \"bob smith\" hi", "bob smith", "hi")]
    [InlineData("/add bob \"hi there\"", "bob", "hi there")]                  // one quoted string loses its quotes
    [InlineData("/add bob 'single quoted'", "bob", "single quoted")]
    [InlineData("/add bob it's \"really\" me", "bob", "it's \"really\" me")]   // otherwise the rest is kept as typed
    [InlineData("/add bob    lots   of   space  ", "bob", "lots   of   space")]
    [InlineData("/add \"say \\\"hi\\\"\" x", "say \"hi\"", "x")]               // \" inside double quotes
    [InlineData("/add 'a\\b' x", "a\\b", "x")]                                  // single quotes keep backslashes
    public void Quotes_group_words_and_a_message_keeps_its_spaces(string line, string user, string message)
    {
        ParseResult result = CommandParser.Parse(line);
        Assert.Null(result.Error);
        Assert.Equal((user, message), (result.Command!["user"], result.Command["message"]));
    }

    [Fact]
    public void A_quoted_password_may_hold_spaces()
    {
        Command login = CommandParser.Parse("/login alice \"correct horse battery\" phone").Command!;
        Assert.Equal(("correct horse battery", "phone"), (login["password"], login["client_id"]));
    }

    [Theory]
    [InlineData("/frobnicate", "unknown command /frobnicate: /help lists the commands")]
    [InlineData("/", "a command follows the slash: /help lists them")]
    [InlineData("/login", "missing <user-or-email>; usage: /login <user-or-email> [password] [client_id]")]
    [InlineData("/login a b c d", "too many arguments (a message or name with spaces goes in \"quotes\"); usage: /login <user-or-email> [password] [client_id]")]
    [InlineData("/register alice a@x.org", "missing <code>; usage: /register <username> <email> [password] <code>")]
    [InlineData("/accept seven", "<request_id> must be a positive number, not 'seven'; usage: /accept <request_id>")]
    [InlineData("/recall 0", "<message_id> must be a positive number, not '0'; usage: /recall <message_id>")]
    [InlineData("/recall 9007199254740992", "<message_id> must be a positive number, not '9007199254740992'; usage: /recall <message_id>")]
    [InlineData("/status asleep", "the status is one of online, busy, away, invisible, not 'asleep'; usage: /status <online|busy|away|invisible>")]
    [InlineData("/history 500", "[n] must be a number from 1 to 100, not '500'; usage: /history [n]")]
    [InlineData("/history -1", "[n] must be a number from 1 to 100, not '-1'; usage: /history [n]")]
    [InlineData("/chat \"bob", "a \" quote is not closed; usage: /chat <user>")]
    [InlineData("/add", "missing <user>; usage: /add <user> [message]")]
    [InlineData("/raw", "missing <action>; usage: /raw <action> [fields]")]
    [InlineData("/raw search_users [1,2]", "[fields] must be a JSON object like {\"limit\": 5}; usage: /raw <action> [fields]")]
    [InlineData("/raw search_users {query:", "[fields] is not valid JSON: write a JSON object like {\"limit\": 5}; usage: /raw <action> [fields]")]
    [InlineData("/logout now", "too many arguments (a message or name with spaces goes in \"quotes\"); usage: /logout")]
    public void Bad_input_says_what_is_wrong_and_shows_the_usage(string line, string error)
    {
        ParseResult result = CommandParser.Parse(line);
        Assert.Null(result.Command);
        Assert.Equal(error, result.Error);
    }

    [Fact]
    public void Commands_and_aliases_ignore_case()
    {
        Assert.Equal("friends", CommandParser.Parse("/FRIENDS").Command!.Name);
        Assert.Equal("quit", CommandParser.Parse("/q").Command!.Name);
        Assert.Equal("help", CommandParser.Parse("/?").Command!.Name);
        Assert.Equal("login", CommandParser.Find("/Login")!.Name);
    }
}
