namespace QkChat.Server.Configuration;

/// <summary>
/// The chat listeners' settings that no Transport class holds: the address they bind and whether the TLS one opens
/// (its port, certificate and timeouts are <see cref="QkChat.Transport.TlsListenerOptions"/>). The option registry
/// binds server.host and tls.enabled to these properties; their initializers are the defaults.
/// </summary>
public sealed class ListenerOptions
{
    /// <summary>Loopback: a fresh install serves this machine only until the operator chooses an address (and TLS).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Off: TLS needs a certificate, which a fresh install does not have.</summary>
    public bool TlsEnabled { get; set; }
}
