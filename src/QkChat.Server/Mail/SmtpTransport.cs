using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace QkChat.Server.Mail;

/// <summary>SMTP relay settings (smtp.* options).</summary>
internal sealed record SmtpSettings(string Host, int Port, SecureSocketOptions Security, string User, string Password, TimeSpan Timeout)
{
    public static SecureSocketOptions SecurityFrom(bool implicitTls, bool startTls) =>
        implicitTls ? SecureSocketOptions.SslOnConnect : startTls ? SecureSocketOptions.StartTls : SecureSocketOptions.None;

    public string SecurityText => Security switch
    {
        SecureSocketOptions.SslOnConnect => "implicit TLS",
        SecureSocketOptions.StartTls => "STARTTLS required",
        _ => "no TLS",
    };
}

/// <summary>
/// Sends through one MailKit connection, kept open across mails and reopened after any failure. Used only by the
/// queue's single sender task, so it needs no locking.
/// </summary>
internal sealed class SmtpTransport(SmtpSettings settings) : IMailTransport
{
    private SmtpClient? _client;

    public string Description => $"mails go to the SMTP relay {settings.Host}:{settings.Port} ({settings.SecurityText}"
        + (settings.User.Length > 0 ? ", authenticated)" : ", no authentication)");

    public bool HoldsConnection => _client is { IsConnected: true };

    public async Task SendAsync(MimeMessage message, CancellationToken ct)
    {
        bool reused = _client is { IsConnected: true };
        try
        {
            var client = await ConnectedAsync(ct);
            await client.SendAsync(message, ct);
        }
        catch (Exception e) when (reused && IsStaleConnection(e) && !ct.IsCancellationRequested)
        {
            // The relay dropped the idle connection between two mails (RFC 5321 §4.5.3.2.7 lets it after a few
            // minutes; some cut sooner). That says nothing about this mail: reconnect and send once more at once.
            await DropAsync();
            try
            {
                var client = await ConnectedAsync(ct);
                await client.SendAsync(message, ct);
            }
            catch
            {
                await DropAsync();
                throw;
            }
        }
        catch (SmtpCommandException)
        {
            // MailKit has already sent RSET: the session stays usable for the next mail.
            throw;
        }
        catch
        {
            await DropAsync();
            throw;
        }
    }

    public async Task CloseIdleAsync(CancellationToken ct)
    {
        if (_client is not { IsConnected: true } client) return;
        try
        {
            await client.DisconnectAsync(quit: true, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // A relay that already hung up cannot be told QUIT; the connection is gone either way.
        }
        await DropAsync();
    }

    // No QUIT here: the sender already said it when it drained, and after an aborted drain the deadline has passed.
    public async ValueTask DisposeAsync() => await DropAsync();

    private async Task<SmtpClient> ConnectedAsync(CancellationToken ct)
    {
        if (_client is { IsConnected: true } open) return open;
        await DropAsync();
        // MailKit applies Timeout to the connect and to every read and write; the queue bounds the whole attempt.
        var client = new SmtpClient { Timeout = (int)settings.Timeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(settings.Host, settings.Port, settings.Security, ct);
            if (settings.User.Length > 0)
                await client.AuthenticateAsync(settings.User, settings.Password, ct);
        }
        catch
        {
            // Half-open (connected but not authenticated) must not be mistaken for ready at the next mail.
            _client = client;
            await DropAsync();
            throw;
        }
        _client = client;
        return client;
    }

    private static bool IsStaleConnection(Exception e) =>
        e is SmtpProtocolException or ServiceNotConnectedException or IOException;

    private async Task DropAsync()
    {
        if (_client is not { } client) return;
        _client = null;
        try
        {
            if (client.IsConnected) await client.DisconnectAsync(quit: false);
        }
        catch
        {
            // Closing a broken socket may throw; there is nothing left to release but the object.
        }
        client.Dispose();
    }
}
