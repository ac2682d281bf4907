namespace QkChat.Server.Admin;

/// <summary>The admin listener (issue 8); the alert limits are in <see cref="AlertThresholds"/>.</summary>
public sealed class AdminOptions
{
    /// <summary>Off: no admin listener at all.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Loopback by default: the admin listener is for the operator on this box, never the chat port.</summary>
    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = 9100;

    /// <summary>Empty: no token. Otherwise every request needs `Authorization: Bearer TOKEN` (or `?token=` for the page).</summary>
    public string Token { get; init; } = "";
}
