using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Social;

/// <summary>ignore_friend_request, check_username and check_email (protocol.md §7, §8).</summary>
public sealed class IgnoreAndAvailabilityTests
{
    private static Task<Envelope> Ignore(ChatClient c, ulong id) => c.RequestAsync("ignore_friend_request", w => w.WriteNumber("friend_request_id", id));

    [Fact(Timeout = 60_000)]
    public async Task An_ignored_request_leaves_the_targets_list_only_and_tells_nobody()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        var (_, cName) = await h.CreateUserAsync();
        var aPhone = await h.LoginAsync(aName);
        var bPhone = await h.LoginAsync(bName, "phone");
        var bLaptop = await h.LoginAsync(bName, "laptop");
        var cPhone = await h.LoginAsync(cName);
        ulong id = (await Ok(aPhone.RequestAsync("friend_request", w => w.WriteNumber("user_identifier", b))))
            .GetProperty("friend_request_id").GetUInt64();
        await Push(bPhone, "friend_request");

        Assert.Equal(ErrorCodes.NotFound, await Code(Ignore(cPhone, id))); // someone else's
        Assert.Equal(ErrorCodes.NotFound, await Code(Ignore(aPhone, id))); // my own outgoing one
        Assert.Equal(ErrorCodes.NotFound, await Code(Ignore(bPhone, 9_000_000_000_000)));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Ignore(bPhone, 0)));
        await Ok(Ignore(bPhone, id));
        await Ok(Ignore(bLaptop, id)); // a repeat changes nothing

        Assert.Empty((await Ok(bLaptop.RequestAsync("get_friend_requests"))).GetProperty("incoming").EnumerateArray());
        var outgoing = (await Ok(aPhone.RequestAsync("get_friend_requests"))).GetProperty("outgoing");
        Assert.Equal(id, Assert.Single(outgoing.EnumerateArray()).GetProperty("friend_request_id").GetUInt64());
        await NoPush(aPhone, "friend_request_result");

        // The target may still accept it later; then ignoring it is too late.
        await Ok(bPhone.RequestAsync("respond_friend_request", w => { w.WriteNumber("friend_request_id", id); w.WriteBoolean("accept", true); }));
        var late = await Ignore(bPhone, id);
        Assert.Equal(ErrorCodes.AlreadyExists, late.Code);
        Assert.True(late.Data!.Value.GetProperty("accepted").GetBoolean());
    }

    [Fact(Timeout = 60_000)]
    public async Task Checks_work_before_login_and_apply_field_rules_first()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var user = await h.RegisterAsync();
        await using var client = await h.ConnectAsync();

        Assert.False((await Ok(client.RequestAsync("check_username", w => w.WriteString("username", user.Name.ToUpperInvariant()))))
            .GetProperty("available").GetBoolean());
        Assert.True((await Ok(client.RequestAsync("check_username", w => w.WriteString("username", "free_" + Guid.NewGuid().ToString("N")[..8]))))
            .GetProperty("available").GetBoolean());
        Assert.False((await Ok(client.RequestAsync("check_email", w => w.WriteString("email", user.Email.ToUpperInvariant()))))
            .GetProperty("available").GetBoolean());
        Assert.True((await Ok(client.RequestAsync("check_email", w => w.WriteString("email", "nobody." + Guid.NewGuid().ToString("N") + "@example.org"))))
            .GetProperty("available").GetBoolean());

        foreach (string bad in new[] { "ab", "123456789", "has space", new string('a', 33) })
            Assert.Equal(ErrorCodes.InvalidArgument, await Code(client.RequestAsync("check_username", w => w.WriteString("username", bad))));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(client.RequestAsync("check_username")));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(client.RequestAsync("check_email", w => w.WriteString("email", "not-an-address"))));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(client.RequestAsync("check_email", w => w.WriteNumber("email", 5))));
    }

    [Fact(Timeout = 60_000)]
    public async Task Both_checks_share_one_budget_per_address()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        // Two connections from one address share it; another address has its own.
        await using var first = await h.ConnectAsync();
        var address = ((System.Net.IPEndPoint)first.LocalEndPoint!).Address;
        await using var second = await ChatClient.ConnectAsync("127.0.0.1", h.Server.Port, new ChatClientOptions { LocalAddress = address });
        for (int i = 0; i < 30; i++)
        {
            await Ok(first.RequestAsync("check_username", w => w.WriteString("username", "name_" + i)));
            await Ok(second.RequestAsync("check_email", w => w.WriteString("email", $"n{i}@example.org")));
        }
        // Field rules still come first when the budget is spent.
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(first.RequestAsync("check_username", w => w.WriteString("username", "x"))));
        var limited = await second.RequestAsync("check_username", w => w.WriteString("username", "one_more"));
        Assert.Equal(ErrorCodes.RateLimited, limited.Code);
        int retryAfter = limited.Data!.Value.GetProperty("retry_after_ms").GetInt32();
        Assert.InRange(retryAfter, 1, 60_000);
        Assert.Equal(ErrorCodes.RateLimited, await Code(first.RequestAsync("check_email", w => w.WriteString("email", "x@example.org"))));

        await using var elsewhere = await h.ConnectAsync();
        await Ok(elsewhere.RequestAsync("check_username", w => w.WriteString("username", "one_more")));
    }
}
