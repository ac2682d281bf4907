using MimeKit;

namespace QkChat.Server.Mail;

/// <summary>Where the mail queue hands a finished message: an SMTP relay, or .eml files when none is configured.</summary>
internal interface IMailTransport : IAsyncDisposable
{
    /// <summary>One line for the start-up log: where mail goes.</summary>
    string Description { get; }

    /// <summary>True while a connection is held open between mails (the queue closes it when idle).</summary>
    bool HoldsConnection { get; }

    /// <summary>Delivers one message or throws; <see cref="MailFailure.Classify"/> decides whether to retry.</summary>
    Task SendAsync(MimeMessage message, CancellationToken ct);

    /// <summary>Says goodbye to the relay after a quiet spell rather than letting it time the connection out.</summary>
    Task CloseIdleAsync(CancellationToken ct);
}
