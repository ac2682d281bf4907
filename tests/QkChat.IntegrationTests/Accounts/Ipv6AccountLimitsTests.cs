using System.Net;
using QkChat.Client;
using QkChat.Protocol;
using QkChat.Server.Accounts;
using StackExchange.Redis;
using Xunit;
using static QkChat.IntegrationTests.Accounts.AccountsHarness;

namespace QkChat.IntegrationTests.Accounts;

/// <summary>
/// The account limits count an IPv6 client under its /64 (issue 16 point 7). ::1 is the only IPv6 source a test
/// has, so this reads the Redis counters a real IPv6 connection wrote: each is under "::/64", none under "::1".
/// ClientAddressTests covers the prefix function itself.
/// </summary>
public sealed class Ipv6AccountLimitsTests
{
    private const string Prefix = "::/64";

    [Fact(Timeout = 60_000)]
    public async Task Failed_logins_codes_and_availability_checks_from_ipv6_count_under_the_prefix()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var h = await StartAsync(listenOn: IPAddress.IPv6Loopback);
        var db = h.Redis.GetDatabase();
        // Counters of earlier runs on this Redis would make the counts below larger than this run's.
        RedisKey login = RedisLoginThrottle.AddressKey(Prefix), codes = RedisVerificationCodes.AddressHourKey(Prefix), checks = "qk:avail:ip:" + Prefix;
        await db.KeyDeleteAsync([login, codes, checks]);

        await using var c = await ChatClient.ConnectAsync("::1", h.Server.Port, new ChatClientOptions());
        Assert.Equal(ErrorCodes.InvalidCredentials, (await Login(c, UniqueName(), "a wrong password!")).Code);
        await Ok(c.RequestAsync("send_verification_code", w => { w.WriteString("email", UniqueName() + "@example.org"); w.WriteString("type", "register"); }, ct: ct));
        await Ok(c.RequestAsync("check_username", w => w.WriteString("username", UniqueName()), ct: ct));

        Assert.Equal(1, (long)await db.StringGetAsync(login));
        Assert.Equal(1, (long)await db.StringGetAsync(codes));
        Assert.Equal(1, (long)await db.StringGetAsync(checks));
        Assert.False(await db.KeyExistsAsync(RedisLoginThrottle.AddressKey("::1")));
        Assert.False(await db.KeyExistsAsync("qk:avail:ip:::1"));
        await db.KeyDeleteAsync([login, codes, checks]);
    }
}
