using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Geralt;
using QkChat.Core.Accounts;

namespace QkChat.Server.Security;

/// <summary>
/// Argon2id through libsodium (Geralt binding). Hashes are PHC strings,
/// <c>$argon2id$v=19$m=&lt;KiB&gt;,t=&lt;passes&gt;,p=1$&lt;salt&gt;$&lt;tag&gt;</c>, with a random 16-byte salt and a
/// 32-byte tag, so every stored hash says how it was made. libsodium always computes one lane (p=1) and compares
/// tags in constant time. The password is hashed as the UTF-8 of the string exactly as received.
/// Costs measured on the target machine and the reasons for the defaults: docs/passwords.md.
/// </summary>
public sealed class Argon2idPasswordHasher : IPasswordHasher
{
    /// <summary>
    /// 19 MiB: OWASP Password Storage Cheat Sheet's Argon2id configuration m=19456 KiB, t=2, p=1. Measured here at
    /// ~17 ms per hash, about 58 hashes per second per core (docs/passwords.md).
    /// </summary>
    public const int DefaultMemoryKiB = 19456;

    /// <summary>2 passes: the OWASP pair of <see cref="DefaultMemoryKiB"/>.</summary>
    public const int DefaultIterations = 2;

    /// <summary>libsodium's floor (crypto_pwhash_argon2id_MEMLIMIT_MIN = 8192 bytes); only tests go this low.</summary>
    public const int MinMemoryKiB = Argon2id.MinMemorySize / 1024;

    /// <summary>libsodium's floor (crypto_pwhash_argon2id_OPSLIMIT_MIN).</summary>
    public const int MinIterations = Argon2id.MinIterations;

    /// <summary>
    /// 1 GiB, 54x the default: no sane setting comes near it, and a stored hash asking for more is refused rather
    /// than allowed to make one verification allocate gigabytes.
    /// </summary>
    public const int MaxMemoryKiB = 1 << 20;

    /// <summary>RFC 9106 §4 recommends 1 to 3 passes; 64 leaves room for any setting while a damaged row asking
    /// for billions of passes cannot pin a worker for ever.</summary>
    public const int MaxIterations = 64;

    private const string Prefix = "$argon2id$v=19$m=";

    // Geralt copies the string into a 128-byte buffer (crypto_pwhash_STRBYTES) that libsodium reads as a C string,
    // so a stored hash must leave room for the NUL. Its own floor is 45 characters.
    private const int MinEncodedLength = 45;
    private const int MaxEncodedLength = Argon2id.HashSize - 1;

    // UTF-8 of a 128-unit password is at most 384 bytes (3 per unit); longer input is rented, not refused.
    private const int StackPasswordBytes = 512;

    /// <param name="memoryKiB">m, in KiB as in the encoded string.</param>
    /// <param name="iterations">t, the number of passes.</param>
    public Argon2idPasswordHasher(int memoryKiB = DefaultMemoryKiB, int iterations = DefaultIterations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryKiB, MinMemoryKiB);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(memoryKiB, MaxMemoryKiB);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, MinIterations);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(iterations, MaxIterations);
        MemoryKiB = memoryKiB;
        Iterations = iterations;
    }

    public int MemoryKiB { get; }

    public int Iterations { get; }

    public string Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        Span<char> encoded = stackalloc char[Argon2id.HashSize];
        byte[]? rented = null;
        int max = Encoding.UTF8.GetMaxByteCount(password.Length);
        Span<byte> utf8 = max <= StackPasswordBytes ? stackalloc byte[StackPasswordBytes] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int length = Encoding.UTF8.GetBytes(password, utf8);
            Argon2id.ComputeHash(encoded, utf8[..length], Iterations, MemoryKiB * 1024);
            int end = encoded.IndexOf('\0');
            return new string(end < 0 ? encoded : encoded[..end]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(utf8);
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public PasswordCheck Verify(string password, string encodedHash)
    {
        if (password is null || !TryReadParameters(encodedHash, out int memoryKiB, out int iterations)) return PasswordCheck.Mismatch;
        byte[]? rented = null;
        int max = Encoding.UTF8.GetMaxByteCount(password.Length);
        Span<byte> utf8 = max <= StackPasswordBytes ? stackalloc byte[StackPasswordBytes] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int length = Encoding.UTF8.GetBytes(password, utf8);
            if (!Argon2id.VerifyHash(encodedHash, utf8[..length])) return PasswordCheck.Mismatch;
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            // TryReadParameters should have caught anything Geralt refuses; a refusal is still only a mismatch.
            return PasswordCheck.Mismatch;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(utf8);
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
        // Only weaker parameters ask for a new hash. libsodium's own needs_rehash also fires when the setting was
        // lowered, which would quietly weaken every stored hash at its next login.
        return memoryKiB < MemoryKiB || iterations < Iterations ? PasswordCheck.MatchNeedsRehash : PasswordCheck.Match;
    }

    /// <summary>
    /// Reads m and t from <c>$argon2id$v=19$m=M,t=T,p=P$salt$tag</c> and checks that the string is something
    /// Geralt and libsodium can take safely: printable ASCII (Geralt narrows each char to a byte), short enough
    /// for the NUL, and costs within the bounds above. libsodium still parses it in full when verifying.
    /// </summary>
    internal static bool TryReadParameters(string? encoded, out int memoryKiB, out int iterations)
    {
        memoryKiB = 0;
        iterations = 0;
        if (encoded is null || encoded.Length is < MinEncodedLength or > MaxEncodedLength) return false;
        if (!encoded.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        foreach (char c in encoded)
        {
            if (c is <= ' ' or > '~') return false;
        }
        var rest = encoded.AsSpan(Prefix.Length);
        if (!TakeNumber(ref rest, ",t=", out memoryKiB) || !TakeNumber(ref rest, ",p=", out iterations)
            || !TakeNumber(ref rest, "$", out int lanes))
        {
            return false;
        }
        int dollar = rest.IndexOf('$');
        if (dollar <= 0 || dollar == rest.Length - 1 || rest[(dollar + 1)..].Contains('$')) return false;
        return memoryKiB is >= MinMemoryKiB and <= MaxMemoryKiB && iterations is >= MinIterations and <= MaxIterations
            && lanes >= 1;
    }

    private static bool TakeNumber(ref ReadOnlySpan<char> rest, string terminator, out int value)
    {
        value = 0;
        int end = rest.IndexOf(terminator, StringComparison.Ordinal);
        if (end is <= 0 or > 10) return false;
        foreach (char c in rest[..end])
        {
            if (!char.IsAsciiDigit(c)) return false;
        }
        if (!int.TryParse(rest[..end], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value)) return false;
        rest = rest[(end + terminator.Length)..];
        return true;
    }
}
