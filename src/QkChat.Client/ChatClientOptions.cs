using System.Net;
using System.Net.Security;
using QkChat.Protocol;

namespace QkChat.Client;

/// <summary>How a <see cref="ChatClient"/> connects and what it tolerates. Every default is safe for tests and tools.</summary>
public sealed class ChatClientOptions
{
    /// <summary>
    /// Source address to bind before connecting (e.g. 127.0.0.5), or null for the system's choice. One source
    /// address reaches one server endpoint through at most ~28k ephemeral ports (32768-60999 on Linux), so a load
    /// generator spreads its connections over several loopback addresses.
    /// </summary>
    public IPAddress? LocalAddress { get; init; }

    /// <summary>Speak TLS (protocol.md §1: same frames inside).</summary>
    public bool UseTls { get; init; }

    /// <summary>Name checked against the server's certificate; null means the host passed to ConnectAsync.</summary>
    public string? TlsTargetHost { get; init; }

    /// <summary>
    /// Certificate check override (tests use self-signed certificates). Null means the platform's normal chain
    /// and name validation. Risk: a callback that returns true accepts any server, i.e. no authentication.
    /// </summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; init; }

    /// <summary>Largest frame body accepted from the server; a larger declared length closes the client.</summary>
    public int MaxFrameBytes { get; init; } = Framing.DefaultMaxFrameBytes;

    /// <summary>Bound on TCP connect plus TLS handshake. 10 s: a loopback connect takes well under 1 ms, so only a
    /// stuck listener (full accept backlog, SYN drops) comes near it.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Default bound on a RequestAsync when the caller gives none. 30 s matches the protocol's heartbeat
    /// interval (protocol.md §4): a server that answers nothing for that long is treated as gone.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Envelopes nobody asked for (pushes, responses without a waiting request) kept until read. 1,024 covers an
    /// offline-message burst (batches of 100, protocol.md §6) ten times over. Past it the oldest is dropped and
    /// counted in <see cref="ChatClient.DroppedUnsolicited"/>, so a client that never reads its pushes (the load
    /// generator) cannot grow without bound.
    /// </summary>
    public int MaxUnsolicited { get; init; } = 1024;

    /// <summary>
    /// First receive buffer, rented from the shared pool only while bytes are pending (idle clients hold none).
    /// 4 KiB holds dozens of typical responses (a heartbeat answer is ~110 bytes); larger frames grow it.
    /// </summary>
    public int ReceiveBufferBytes { get; init; } = 4096;

    /// <summary>
    /// Complete request tasks on the read loop instead of the thread pool. Saves a thread hop per response (the
    /// load generator's closed loops), but a continuation that blocks then stalls this connection's reads.
    /// Default false: only for callers whose continuations never block.
    /// </summary>
    public bool InlineCompletions { get; init; }
}
