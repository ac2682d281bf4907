namespace QkChat.Server.Security;

/// <summary>
/// Password hashing (password.*): the option registry binds these properties; their initializers are the defaults
/// (the costs are the hasher's OWASP pair, whose reasons are at <see cref="Argon2idPasswordHasher.DefaultMemoryKiB"/>).
/// </summary>
public sealed class PasswordOptions
{
    public int MemoryKiB { get; set; } = Argon2idPasswordHasher.DefaultMemoryKiB;
    public int Iterations { get; set; } = Argon2idPasswordHasher.DefaultIterations;

    /// <summary>0: one worker per core (PasswordWorkPool decides).</summary>
    public int Workers { get; set; }

    /// <summary>0: 64 logins per worker (PasswordWorkPool decides).</summary>
    public int QueueCapacity { get; set; }
}
