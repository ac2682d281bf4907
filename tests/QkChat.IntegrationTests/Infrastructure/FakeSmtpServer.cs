using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using MimeKit;

namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>
/// An SMTP sink on 127.0.0.1 for mail tests: just enough ESMTP for MailKit (EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA
/// with dot-unstuffing, RSET, NOOP, QUIT), no TLS and no PIPELINING, so every command gets its own reply. It can
/// refuse the next transactions, stall at the end of DATA, or hang up on its clients.
/// </summary>
internal sealed class FakeSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<byte[]> _messages = Channel.CreateUnbounded<byte[]>();
    private readonly ConcurrentDictionary<TcpClient, bool> _clients = new();
    private readonly Task _accepting;
    private int _failNext;
    private int _failCode = 451;
    private int _connections;
    private int _quits;

    public FakeSmtpServer()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public int Connections => Volatile.Read(ref _connections);
    public int Quits => Volatile.Read(ref _quits);
    public string? AuthPlain { get; private set; }

    /// <summary>How long to sit on a finished DATA before answering (a stalled relay).</summary>
    public TimeSpan DataDelay { get; set; }

    /// <summary>Answers the next <paramref name="count"/> MAIL FROM commands with <paramref name="code"/>.</summary>
    public void FailNext(int count, int code = 451)
    {
        _failCode = code;
        Volatile.Write(ref _failNext, count);
    }

    /// <summary>Closes every open client connection, as a relay does with idle ones.</summary>
    public void HangUpAll()
    {
        foreach (var client in _clients.Keys) client.Close();
    }

    public async Task<MimeMessage> ReceiveAsync(int timeoutMs = 10_000)
    {
        using var timeout = new CancellationTokenSource(timeoutMs);
        byte[] raw = await _messages.Reader.ReadAsync(timeout.Token);
        return MimeMessage.Load(new MemoryStream(raw));
    }

    public bool TryReceive(out byte[]? raw) => _messages.Reader.TryRead(out raw);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                _clients[client] = true;
                _ = ServeAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            // Latin-1 maps bytes to chars one to one, so an 8bit body survives the round trip unchanged.
            var reader = new StreamReader(stream, Encoding.Latin1);
            var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync("220 fake ESMTP ready");
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                string verb = (line.Length > 4 ? line[..4] : line).ToUpperInvariant();
                string reply = verb switch
                {
                    "EHLO" => "250-fake\r\n250-8BITMIME\r\n250 AUTH PLAIN",
                    "HELO" => "250 fake",
                    "AUTH" => Authenticate(line),
                    "MAIL" => TakeFailure() ? $"{_failCode} 4.3.0 try again later" : "250 2.1.0 ok",
                    "RCPT" => "250 2.1.5 ok",
                    "DATA" => "354 end with <CRLF>.<CRLF>",
                    "RSET" or "NOOP" => "250 2.0.0 ok",
                    "QUIT" => "221 2.0.0 bye",
                    _ => "500 5.5.2 unknown command",
                };
                // Counted before the reply, so a client that has read "221" can rely on the count.
                if (verb == "QUIT") Interlocked.Increment(ref _quits);
                await writer.WriteLineAsync(reply);
                if (verb == "QUIT") break;
                if (verb != "DATA") continue;

                var raw = new StringBuilder();
                while (await reader.ReadLineAsync(_stop.Token) is { } dataLine && dataLine != ".")
                    raw.Append(dataLine.StartsWith('.') ? dataLine[1..] : dataLine).Append("\r\n");
                if (DataDelay > TimeSpan.Zero) await Task.Delay(DataDelay, _stop.Token);
                _messages.Writer.TryWrite(Encoding.Latin1.GetBytes(raw.ToString()));
                await writer.WriteLineAsync("250 2.0.0 queued");
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
        finally
        {
            _clients.TryRemove(client, out _);
            client.Dispose();
        }
    }

    private string Authenticate(string line)
    {
        string[] parts = line.Split(' ');
        if (parts.Length < 3 || !parts[1].Equals("PLAIN", StringComparison.OrdinalIgnoreCase)) return "504 5.5.4 PLAIN only";
        AuthPlain = Encoding.UTF8.GetString(Convert.FromBase64String(parts[2])).TrimStart('\0');
        return "235 2.7.0 accepted";
    }

    private bool TakeFailure()
    {
        int left;
        do
        {
            left = Volatile.Read(ref _failNext);
            if (left <= 0) return false;
        }
        while (Interlocked.CompareExchange(ref _failNext, left - 1, left) != left);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        HangUpAll();
        await _accepting;
        _stop.Dispose();
    }
}
