using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using QkChat.Client;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using Xunit;

namespace QkChat.IntegrationTests.Web;

/// <summary>
/// qkchatd as a child process with its public HTTP listener (the web client at / and the WebSocket at /ws) on a free
/// port, on a throwaway MariaDB database and a redis-server of its own, sending verification mails to an in-test SMTP
/// server. Its own Redis because the browser always connects from 127.0.0.1: the per-address budgets (20 codes an
/// hour, failed logins) would otherwise be shared by every run of these tests and every other test on the stack.
/// Files go to a temporary directory of its own, with upload URLs on this listener and 64 KiB chunks (the smallest
/// files.chunk_bytes allows), so a file of a few hundred KB takes several PATCHes and a resumption can be seen.
/// </summary>
internal sealed partial class WebHarness : IAsyncDisposable
{
    private readonly TempDatabase _db;
    private readonly ExternalProcess _redis;
    private readonly FakeSmtpServer _smtp;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _codes = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _mailLoop;

    /// <summary>files.chunk_bytes of the harness's server: files.chunk_bytes' minimum.</summary>
    public const int ChunkBytes = 64 * 1024;

    private readonly string _filesDir;

    private WebHarness(TempDatabase db, ExternalProcess redis, FakeSmtpServer smtp, ExternalProcess server, int chatPort, int httpPort, string filesDir)
    {
        _filesDir = filesDir;
        _db = db;
        _redis = redis;
        _smtp = smtp;
        Server = server;
        ChatPort = chatPort;
        HttpPort = httpPort;
        _mailLoop = ReadMailsAsync();
    }

    public ExternalProcess Server { get; }
    public int ChatPort { get; }
    public int HttpPort { get; }
    public string BaseUrl => $"http://127.0.0.1:{HttpPort}/";

    /// <param name="environment">More settings for qkchatd (QKCHAT_* variables), over the harness's own.</param>
    public static async Task<WebHarness> StartAsync(IReadOnlyDictionary<string, string>? environment = null)
    {
        var db = await TempDatabase.CreateAsync();
        int redisPort = ServerProcess.FreePort();
        var redis = ExternalProcess.Start("redis-server",
            ["--port", redisPort.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], workingDirectory: Path.GetTempPath());
        await redis.WaitForOutputAsync("Ready to accept connections", TimeSpan.FromSeconds(30));
        var smtp = new FakeSmtpServer();

        int chatPort = ServerProcess.FreePort(), httpPort = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, chatPort);
        env["QKCHAT_REDIS_PORT"] = redisPort.ToString();
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["QKCHAT_HTTP_PORT"] = httpPort.ToString();
        env["QKCHAT_SMTP_HOST"] = "127.0.0.1";
        env["QKCHAT_SMTP_PORT"] = smtp.Port.ToString();
        env["QKCHAT_SMTP_STARTTLS"] = "false";
        string filesDir = Directory.CreateTempSubdirectory("qkchat-web-files-").FullName;
        env["QKCHAT_FILES_DIR"] = filesDir;
        env["QKCHAT_FILES_PUBLIC_URL"] = $"http://127.0.0.1:{httpPort}";
        env["QKCHAT_FILES_CHUNK_BYTES"] = ChunkBytes.ToString();
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) env[key] = value;
        var server = ServerProcess.Start(env);
        try
        {
            await server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + "\n--- qkchatd ---\n" + server.Output, e);
        }
        return new WebHarness(db, redis, smtp, server, chatPort, httpPort, filesDir);
    }

    /// <summary>The six digits of the last code mailed to <paramref name="email"/> (waits for the mail, bounded).</summary>
    public async Task<string> MailedCodeAsync(string email)
    {
        var code = _codes.GetOrAdd(email, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        return await code.WaitAsync(TimeSpan.FromSeconds(20));
    }

    private async Task ReadMailsAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            MimeKit.MimeMessage mail;
            try
            {
                mail = await _smtp.ReceiveAsync(timeoutMs: 500);
            }
            catch (OperationCanceledException)
            {
                continue;
            }
            var code = SixDigits().Match(mail.TextBody ?? "");
            foreach (var to in mail.To.Mailboxes)
            {
                var slot = _codes.GetOrAdd(to.Address, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
                if (code.Success) slot.TrySetResult(code.Value);
                else slot.TrySetException(new InvalidOperationException("no code in the mail to " + to.Address + ":\n" + mail.TextBody));
            }
        }
    }

    [GeneratedRegex(@"\b\d{6}\b")]
    private static partial Regex SixDigits();

    /// <summary>A user made over TCP (ChatClient, from a random loopback address), for tests whose subject is not sign-up.</summary>
    public async Task<WebAccount> RegisterOverTcpAsync(string? name = null)
    {
        name ??= "w" + Guid.NewGuid().ToString("N")[..10];
        string email = name + "@example.org", password = "secret of " + name;
        await using var client = await ConnectTcpAsync();
        await AccountsHarness.Ok(client.SendVerificationCodeAsync(email, "register"));
        var registered = await AccountsHarness.Ok(client.RegisterAsync(name, email, password, await MailedCodeAsync(email)));
        return new WebAccount(name, email, password, registered.Data!.Value.GetProperty("user_id").GetInt64());
    }

    public Task<ChatClient> ConnectTcpAsync() =>
        ChatClient.ConnectAsync("127.0.0.1", ChatPort, new ChatClientOptions { LocalAddress = AccountsHarness.RandomLoopback() });

    /// <summary>A TCP client logged in as <paramref name="account"/>.</summary>
    public async Task<ChatClient> LoginOverTcpAsync(WebAccount account, string clientId = "tcp-test")
    {
        var client = await ConnectTcpAsync();
        await AccountsHarness.Ok(client.LoginAsync(account.Name, account.Password, clientId));
        return client;
    }

    /// <summary>Makes two accounts friends over TCP (a request and its acceptance).</summary>
    public async Task BefriendAsync(WebAccount a, WebAccount b)
    {
        await using var ca = await LoginOverTcpAsync(a, "tcp-befriend");
        await using var cb = await LoginOverTcpAsync(b, "tcp-befriend");
        var sent = await AccountsHarness.Ok(ca.SendFriendRequestAsync(b.Name));
        long id = sent.Data!.Value.GetProperty("friend_request_id").GetInt64();
        await AccountsHarness.Ok(cb.RespondFriendRequestAsync(id, accept: true));
    }

    public static JsonElement Data(Envelope e) => e.Data!.Value;

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _stop.Cancel();
        await _mailLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _smtp.DisposeAsync();
        await _redis.DisposeAsync();
        await _db.DisposeAsync();
        Directory.Delete(_filesDir, recursive: true);
    }
}

internal sealed record WebAccount(string Name, string Email, string Password, long UserId);
