namespace QkChat.Server.Storage;

/// <summary>Redis (redis.*): the option registry binds these properties; their initializers are the defaults (a local Redis).</summary>
public sealed class RedisOptions
{
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 6379;

    /// <summary>Empty by default: a secret is never given a default.</summary>
    public string Password { get; set; } = "";

    public int Database { get; set; }
}
