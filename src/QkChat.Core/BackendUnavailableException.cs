namespace QkChat.Core;

/// <summary>
/// A backend (MariaDB, Redis) did not answer. During a request it answers UNAVAILABLE with nothing done; at start it
/// ends the process with one clear line after the bounded retry.
/// </summary>
public class BackendUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The backend is up but this server could not get a turn at it in time (every pooled connection stayed busy for
/// the whole wait): the server is overloaded, not broken. The request answers SERVER_BUSY with a retry hint and
/// nothing done, so clients back off and retry instead of reporting an outage.
/// </summary>
public sealed class BackendBusyException(string message, Exception? inner = null) : BackendUnavailableException(message, inner)
{
    /// <summary>What the answer suggests as retry_after_ms: about one pool wait's worth of backlog.</summary>
    public const int RetryAfterMs = 1000;
}
