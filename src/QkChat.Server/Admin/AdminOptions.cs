namespace QkChat.Server.Admin;

/// <summary>
/// The admin listener (issue 8); the alert limits are in <see cref="AlertThresholds"/>. The defaults here are the
/// server's: the option registry binds admin.* to these properties.
/// </summary>
public sealed class AdminOptions
{
    /// <summary>Off: no admin listener at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Loopback by default: the admin listener is for the operator on this box, never the chat port.</summary>
    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 9100;

    /// <summary>
    /// Empty: no token (allowed on loopback only, ConfigLoader checks). Otherwise every request but the static page
    /// needs `Authorization: Bearer TOKEN`; the URL never carries it.
    /// </summary>
    public string Token { get; set; } = "";

    /// <summary>The listener's own copy of the settings.</summary>
    public AdminOptions Copy() => (AdminOptions)MemberwiseClone();
}
