using System.Net.Sockets;
using System.Text.Json;
using QkChat.Client;
using QkChat.Protocol;

namespace QkChat.Cli;

/// <summary>Where and how a session connects, and its timings (tests shorten them).</summary>
internal sealed record SessionSettings(string Host, int Port, ChatClientOptions ClientOptions, string DefaultClientId)
{
    /// <summary>protocol.md §4: clients send a heartbeat every 30 s; the server drops a silent one after 60 s.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(30);

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The device label sent with login (shown by /sessions).</summary>
    public string Device { get; init; } = "qkchat cli";

    /// <summary>
    /// Longest one HTTP request of a file transfer may take (a chunk of 8 MiB, or a download's headers): a minute is
    /// generous on any working link; a stalled request counts as a cut and is resumed.
    /// </summary>
    public TimeSpan TransferTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The wait before the n-th resume in a row of a transfer (the uploader's default: 0.5 s doubling).</summary>
    public Func<int, TimeSpan> TransferBackoff { get; init; } = n => TimeSpan.FromMilliseconds(500 * (1 << Math.Min(n - 1, 6)));

    /// <summary>The WebSocket gateway's address (ws:// or wss://); null: TCP to Host:Port.</summary>
    public Uri? WebSocketUrl { get; init; }
}

/// <summary>
/// One run of the client: reads lines, runs each command to its answer before reading the next, and prints pushes as
/// they arrive (acknowledging incoming messages). The connection is opened at start and again, lazily, by the next
/// command after it ended (a logout, a kick, a server restart). Command handlers are in Session.Commands.cs.
/// </summary>
internal sealed partial class Session : IAsyncDisposable
{
    private readonly SessionSettings _settings;
    private readonly ILineInput _input;
    private readonly LineOutput _out;
    private readonly PushFormatter _format;
    private readonly UserNames _names = new();
    private readonly Func<CancellationToken, Task<ChatClient>> _connect;
    private readonly PushArrivals _arrivals = new();

    private Connection? _conn;
    private bool _quit;
    private int _failures;

    /// <summary>
    /// Set while a typed command waits for its answer and prints it: pushes wait for it, so "logged in as ..." comes
    /// before the offline messages the server sent right after that answer (the answer's continuation and the push loop
    /// run on different threads, and on a busy machine the push could otherwise print first).
    /// </summary>
    private volatile TaskCompletionSource? _commandPrinting;

    /// <summary>
    /// How long a push waits for a command's output before it prints anyway: a bound, so a command that never ends
    /// cannot hold pushes back for good. Far above an answer's round trip on any working link.
    /// </summary>
    private static readonly TimeSpan CommandPrintWait = TimeSpan.FromSeconds(5);

    // Who is logged in (the formatter's Me is the id), and with whom we chat.
    private string? _myName;
    private string? _clientId;
    private long _peer;

    // Or the group that plain lines and /send-file go to (/gchat); at most one of the two is set.
    private long _group;

    // The newest message id seen from each peer, for /read (the push loop writes it too).
    private readonly Lock _newestLock = new();
    private readonly Dictionary<long, long> _newestFrom = [];

    public Session(SessionSettings settings, ILineInput input, LineOutput output,
        Func<CancellationToken, Task<ChatClient>>? connect = null)
    {
        _settings = settings;
        _input = input;
        _out = output;
        _format = new PushFormatter(_names, settings.Clock);
        _connect = connect ?? (settings.WebSocketUrl is { } url
            ? ct => ChatClient.ConnectWebSocketAsync(url, settings.ClientOptions, origin: null, ct)
            : ct => ChatClient.ConnectAsync(settings.Host, settings.Port, settings.ClientOptions, ct));
    }

    private string Endpoint => _settings.WebSocketUrl?.ToString() ?? $"{_settings.Host}:{_settings.Port}";

    /// <summary>
    /// Runs until /quit or the end of input. Returns 0, or 1 when the server could not be reached at start or, for
    /// piped input, when any command failed (so a script can tell).
    /// </summary>
    public async Task<int> RunAsync(CancellationToken ct)
    {
        try
        {
            await EnsureConnectedAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or TimeoutException or IOException)
        {
            _out.Line($"qkchat: cannot reach {Endpoint}: {e.Message} (is the server running? `make run` starts one)");
            return 1;
        }
        if (_input.Interactive) _out.Line($"connected to {Endpoint}; /help lists the commands, /quit leaves");

        while (!_quit)
        {
            if (_input.Interactive) _out.Prompt(PromptText());
            string? line = await _input.ReadLineAsync(ct).ConfigureAwait(false);
            _out.EndPrompt();
            if (line is null) break;
            ParseResult parsed = CommandParser.Parse(line);
            if (parsed.Error is not null) Fail(parsed.Error);
            else if (parsed.Command is { } command) await RunCommandAsync(command, ct).ConfigureAwait(false);
        }
        return _failures > 0 && !_input.Interactive ? 1 : 0;
    }

    private string PromptText()
    {
        string me = _format.Me == 0 ? "qkchat" : _myName ?? "me";
        if (_group != 0) return $"{me} -> group {_group}> ";
        return _peer == 0 ? me + "> " : $"{me} -> {_format.Who(_peer)}> ";
    }

    private async Task RunCommandAsync(Command command, CancellationToken ct)
    {
        try
        {
            await ExecuteAsync(command, ct).ConfigureAwait(false);
        }
        catch (ChatConnectionClosedException e)
        {
            Fail($"the connection ended ({e.Info.Detail}); the next command connects again");
        }
        catch (TimeoutException e)
        {
            Fail(e.Message);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            Fail($"cannot reach {Endpoint}: {e.Message}");
        }
        finally
        {
            _commandPrinting?.TrySetResult();
            _commandPrinting = null;
        }
    }

    private void Fail(string message)
    {
        _failures++;
        _out.Line(message);
    }

    /// <summary>The open connection, or a new one when there is none or it ended (then the login is gone too).</summary>
    private async Task<ChatClient> EnsureConnectedAsync(CancellationToken ct)
    {
        if (_conn is { Client.IsConnected: true } open) return open.Client;
        if (_conn is not null)
        {
            await _conn.DisposeAsync().ConfigureAwait(false);
            _conn = null;
            _format.Me = 0;
            _out.Line(_format.Note($"connecting to {Endpoint} again"));
        }
        ChatClient client = await _connect(ct).ConfigureAwait(false);
        _conn = new Connection(this, client);
        return client;
    }

    /// <summary>Sends a request; on success returns its data (an empty object when it has none), else prints why and returns null.</summary>
    private async Task<JsonElement?> CallAsync(Func<ChatClient, Task<Envelope>> call, CancellationToken ct)
    {
        ChatClient client = await EnsureConnectedAsync(ct).ConfigureAwait(false);
        _commandPrinting ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Envelope response = await call(client).ConfigureAwait(false);
        if (response.Success == true) return response.Data ?? Json.EmptyObject;
        Fail(PushFormatter.Failure(response));
        return null;
    }

    private void NoteNewest(JsonElement message)
    {
        if (message.Long("sender_id") is not { } sender || sender == _format.Me || message.Long("message_id") is not { } id) return;
        lock (_newestLock)
            _newestFrom[sender] = Math.Max(id, _newestFrom.GetValueOrDefault(sender));
    }

    private long NewestFrom(long peer)
    {
        lock (_newestLock) return _newestFrom.GetValueOrDefault(peer);
    }

    private async Task HeartbeatLoopAsync(Connection conn)
    {
        using var timer = new PeriodicTimer(_settings.HeartbeatInterval, _settings.Clock);
        try
        {
            while (await timer.WaitForNextTickAsync(conn.Stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await conn.Client.HeartbeatAsync(conn.Stop.Token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    _out.Line(_format.Note("the server did not answer a heartbeat"));
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChatConnectionClosedException)
        {
            // Closed: the heartbeat ends with the connection.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_conn is not null) await _conn.DisposeAsync().ConfigureAwait(false);
        _conn = null;
        _http?.Dispose();
    }

    /// <summary>A client with its push loop and heartbeat; disposing stops all three.</summary>
    private sealed class Connection : IAsyncDisposable
    {
        private readonly Task _pushes;
        private readonly Task _heartbeat;

        public Connection(Session session, ChatClient client)
        {
            Client = client;
            _pushes = Task.Run(() => session.PushLoopAsync(this));
            _heartbeat = Task.Run(() => session.HeartbeatLoopAsync(this));
        }

        public ChatClient Client { get; }
        public CancellationTokenSource Stop { get; } = new();

        /// <summary>Users whose names the push loop asked the server for (once each per connection).</summary>
        public HashSet<long> LookedUp { get; } = [];

        /// <summary>Set before a logout: the server then closes the connection, which is no news.</summary>
        public bool ExpectClose { get; set; }

        public async ValueTask DisposeAsync()
        {
            await Stop.CancelAsync().ConfigureAwait(false);
            await Client.DisposeAsync().ConfigureAwait(false);
            await Task.WhenAll(_pushes, _heartbeat).ConfigureAwait(false);
            Stop.Dispose();
        }
    }
}
