namespace QkChat.Core.Accounts;

/// <summary>The result of checking a password against a stored hash.</summary>
public enum PasswordCheck
{
    Mismatch,
    Match,

    /// <summary>Correct, but hashed with weaker parameters than today's: store a fresh hash.</summary>
    MatchNeedsRehash,
}

/// <summary>
/// A memory-hard, salted password hash whose encoded form carries its parameters (so they can be raised later).
/// Slow by design: call it only through <see cref="PasswordWorkPool"/>, never on a reactor. Implementations are
/// thread-safe: the pool calls them from several workers at once.
/// </summary>
public interface IPasswordHasher
{
    /// <summary>A fresh random salt every call, so the same password never gives the same string twice.</summary>
    string Hash(string password);

    /// <summary>
    /// Constant-time verification. A stored string this hasher cannot read (another algorithm, damaged, empty)
    /// is a <see cref="PasswordCheck.Mismatch"/>, never an exception: a bad row must not look different from a
    /// wrong password to the client.
    /// </summary>
    PasswordCheck Verify(string password, string encodedHash);
}
