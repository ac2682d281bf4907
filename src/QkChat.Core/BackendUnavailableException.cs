namespace QkChat.Core;

/// <summary>
/// A backend (MariaDB, Redis) did not answer. During a request it answers UNAVAILABLE with nothing done; at start it
/// ends the process with one clear line after the bounded retry.
/// </summary>
public sealed class BackendUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
