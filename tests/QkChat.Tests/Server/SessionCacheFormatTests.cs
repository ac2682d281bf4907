using QkChat.Server.Accounts;
using Xunit;

namespace QkChat.Tests.Server;

/// <summary>The token cache entry that lets a resume skip MariaDB: it must give back exactly what went in.</summary>
public sealed class SessionCacheFormatTests
{
    [Theory]
    [InlineData("phone", "alice", "alice@example.org")]
    [InlineData("a|b|c", "bob_2", "odd|local@example.org")] // the free-text client id and e-mail may hold the separator
    [InlineData("", "x_y", "|@example.org")]
    public void An_entry_reads_back_as_written(string clientId, string username, string email)
    {
        var written = new SessionStore.CachedSession(123456789, clientId, 1_795_600_000_000, 1_795_500_000_000, username, email);
        Assert.Equal(written, SessionStore.ParseCached(SessionStore.FormatCached(written)));
    }

    [Theory]
    [InlineData("123456789|1795600000000|1795600000000|phone")] // the four-field form before names were cached
    [InlineData("123456789|1795600000000|1795600000000|99|phone")] // client id length past the end
    [InlineData("x|1|1|0|alice|a@b")]
    [InlineData("")]
    public void Older_or_damaged_entries_are_a_cache_miss(string value) => Assert.Null(SessionStore.ParseCached(value));
}
