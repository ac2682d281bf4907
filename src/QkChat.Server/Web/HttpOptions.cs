namespace QkChat.Server.Web;

/// <summary>
/// The public HTTP listener (issue 20, protocol.md §11): the web client's files at `/`, the WebSocket gateway at
/// `/ws`, and whatever features map beside them (<see cref="IHttpEndpoints"/>). The option registry binds http.* to
/// these properties; their initializers are the defaults. TLS reuses the chat port's certificate settings (tls.cert_file,
/// tls.key_file), so one certificate serves both.
/// </summary>
public sealed class HttpOptions
{
    /// <summary>On: a fresh install serves the web client on loopback, next to the chat port.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Loopback, like server.host: public only when the operator chooses an address (and TLS).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>8081: next to the chat port's 8080 (protocol.md §11).</summary>
    public int Port { get; set; } = 8081;

    /// <summary>Off: TLS needs a certificate, which a fresh install does not have (tls.cert_file, tls.key_file).</summary>
    public bool Tls { get; set; }

    /// <summary>
    /// Comma-separated origins (scheme://host[:port]) whose pages may open `/ws`, or `*` for any; empty: the
    /// listener's own origin only (the scheme and the Host header the browser sent).
    /// </summary>
    public string AllowedOrigins { get; set; } = "";

    /// <summary>
    /// Seconds of silence toward a WebSocket client after which the server pings it; 25 stays below the 30-60 s idle
    /// timeouts of common proxies and load balancers (nginx proxy_read_timeout 60 s, AWS ALB 60 s). 0: never.
    /// </summary>
    public int PingIntervalSeconds { get; set; } = 25;

    public HttpOptions Copy() => (HttpOptions)MemberwiseClone();
}
