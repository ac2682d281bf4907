using System.Text.RegularExpressions;
using QkChat.Core.Accounts;
using QkChat.Server.Security;
using Xunit;

namespace QkChat.Tests.Server;

public sealed partial class PasswordHasherTests
{
    // Small costs keep the suite fast; one test below runs the real defaults.
    private const int TestMemoryKiB = 1024;
    private static readonly Argon2idPasswordHasher Fast = new(TestMemoryKiB, 1);

    // RFC 9106 / PHC reference implementation: `echo -n password | argon2 somesalt -id -t 2 -m 16 -p 1 -e`.
    private const string ReferenceHash = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";

    [GeneratedRegex(@"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$")]
    private static partial Regex PhcString();

    [Fact]
    public void Default_hashes_carry_their_parameters_and_a_fresh_salt()
    {
        var hasher = new Argon2idPasswordHasher();
        string first = hasher.Hash("correct horse battery staple");
        string second = hasher.Hash("correct horse battery staple");
        var match = PhcString().Match(first);
        Assert.True(match.Success, first);
        Assert.Equal("19456", match.Groups[1].Value);
        Assert.Equal("2", match.Groups[2].Value);
        Assert.NotEqual(first, second);
        Assert.Equal(PasswordCheck.Match, hasher.Verify("correct horse battery staple", first));
        Assert.Equal(PasswordCheck.Mismatch, hasher.Verify("correct horse battery stapler", first));
    }

    [Theory]
    [InlineData("12345678")]
    [InlineData("密码 with spaces and 😀")]
    [InlineData("tab\tnewline\n")]
    public void Verifies_what_it_hashed_and_nothing_else(string password)
    {
        string hash = Fast.Hash(password);
        Assert.Matches(PhcString(), hash);
        Assert.Equal(PasswordCheck.Match, Fast.Verify(password, hash));
        Assert.Equal(PasswordCheck.Mismatch, Fast.Verify(password + "x", hash));
        Assert.Equal(PasswordCheck.Mismatch, Fast.Verify(password.ToUpperInvariant() + "X", hash));
        Assert.Equal(PasswordCheck.Mismatch, Fast.Verify("", hash));
    }

    [Fact]
    public void Long_passwords_take_the_rented_buffer_path()
    {
        string password = string.Concat(Enumerable.Repeat("长密码", 400)); // 3,600 UTF-8 bytes
        string hash = Fast.Hash(password);
        Assert.Equal(PasswordCheck.Match, Fast.Verify(password, hash));
        Assert.Equal(PasswordCheck.Mismatch, Fast.Verify(password[..^1], hash));
    }

    [Fact]
    public void Unicode_is_not_normalized_so_composed_and_decomposed_forms_differ()
    {
        string composed = "caf\u00e9-password", decomposed = "cafe\u0301-password";
        string hash = Fast.Hash(composed);
        Assert.Equal(PasswordCheck.Match, Fast.Verify(composed, hash));
        Assert.Equal(PasswordCheck.Mismatch, Fast.Verify(decomposed, hash));
    }

    [Fact]
    public void Verifies_a_hash_made_by_the_reference_implementation()
    {
        Assert.Equal(PasswordCheck.Match, Fast.Verify("password", ReferenceHash));
        Assert.Equal(PasswordCheck.Mismatch, Fast.Verify("passwore", ReferenceHash));
    }

    [Fact]
    public void Asks_for_a_rehash_only_when_the_stored_parameters_are_weaker()
    {
        string hash = new Argon2idPasswordHasher(TestMemoryKiB, 2).Hash("p4ssword");
        Assert.Equal(PasswordCheck.Match, new Argon2idPasswordHasher(TestMemoryKiB, 2).Verify("p4ssword", hash));
        Assert.Equal(PasswordCheck.MatchNeedsRehash, new Argon2idPasswordHasher(TestMemoryKiB * 2, 2).Verify("p4ssword", hash));
        Assert.Equal(PasswordCheck.MatchNeedsRehash, new Argon2idPasswordHasher(TestMemoryKiB, 3).Verify("p4ssword", hash));
        // Lowering the setting must not quietly weaken stored hashes (libsodium's needs_rehash would).
        Assert.Equal(PasswordCheck.Match, new Argon2idPasswordHasher(TestMemoryKiB / 2, 1).Verify("p4ssword", hash));
        Assert.Equal(PasswordCheck.Mismatch, new Argon2idPasswordHasher(TestMemoryKiB * 2, 2).Verify("wrong", hash));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a hash")]
    [InlineData("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW")] // bcrypt
    [InlineData("$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA")]
    [InlineData("$argon2id$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")]
    [InlineData("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPd")] // tag changed
    [InlineData("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHR$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")] // salt changed
    [InlineData("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRP")] // cut short
    [InlineData("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ")]
    [InlineData("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc$extra")]
    [InlineData("$argon2id$v=19$m=-65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")]
    [InlineData("$argon2id$v=19$m=99999999999,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")]
    [InlineData("$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")] // 4 GiB
    [InlineData("$argon2id$v=19$m=65536,t=4000000000,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")]
    [InlineData("$argon2id$v=19$m=65536,t=1000,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")]
    [InlineData("$argon2id$v=19$m=65536,t=2,p=0$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")]
    [InlineData("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPé")]
    [InlineData("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPP\u0143")] // narrows to 'C'
    [InlineData("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc ")]
    [InlineData("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc\0")]
    public void Anything_it_cannot_read_is_a_mismatch_never_an_exception(string encoded)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(PasswordCheck.Mismatch, Fast.Verify("password", encoded));
        // Refusing is a parse (microseconds). Computing even the cheapest damaged row above (t=1000 over 64 MiB) costs
        // 1000 passes of at least ~25 ms each, 25 s or more, so 10 s tells the two apart with room for a loaded box.
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"a damaged row must not cost a long computation (took {started.Elapsed})");
    }

    [Fact]
    public void A_stored_hash_longer_than_libsodium_reads_is_a_mismatch()
    {
        string padded = ReferenceHash.Replace("c29tZXNhbHQ", "c29tZXNhbHQ" + new string('A', 60), StringComparison.Ordinal);
        Assert.True(padded.Length >= 128);
        Assert.Equal(PasswordCheck.Mismatch, Fast.Verify("password", padded));
        Assert.Equal(PasswordCheck.Mismatch, Fast.Verify("password", null!));
        Assert.Equal(PasswordCheck.Mismatch, Fast.Verify(null!, ReferenceHash));
    }

    [Theory]
    [InlineData(7, 1)]
    [InlineData((1 << 20) + 1, 1)]
    [InlineData(19456, 0)]
    [InlineData(19456, 65)]
    public void Refuses_parameters_outside_the_bounds(int memoryKiB, int iterations) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Argon2idPasswordHasher(memoryKiB, iterations));

    [Fact(Timeout = 60_000)]
    public async Task Hashes_in_parallel_from_the_work_pool()
    {
        using var pool = new PasswordWorkPool(Fast, workers: 2, capacity: 32);
        var hashes = new List<Task<string>>();
        for (int i = 0; i < 16; i++)
        {
            Assert.True(pool.TryHash("password-" + i, out var hash));
            hashes.Add(hash);
        }
        string[] done = await Task.WhenAll(hashes).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(16, done.Distinct().Count());
        for (int i = 0; i < 16; i++)
        {
            Assert.True(pool.TryVerify("password-" + i, done[i], out var check));
            Assert.Equal(PasswordCheck.Match, await check.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        }
    }
}
