namespace QkChat.Server.Admin;

/// <summary>The admin listener (issue 8); the alert limits are in <see cref="AlertThresholds"/>.</summary>
public sealed class AdminOptions
{
    /// <summary>Off: no admin listener at all.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Loopback by default: the admin listener is for the operator on this box, never the chat port.</summary>
    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = 9100;

    /// <summary>
    /// Empty: no token (allowed on loopback only, ConfigLoader checks). Otherwise every request but the static page
    /// needs `Authorization: Bearer TOKEN`; the URL never carries it.
    /// </summary>
    public string Token { get; init; } = "";
}
