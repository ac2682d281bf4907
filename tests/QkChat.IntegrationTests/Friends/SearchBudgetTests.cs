using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Friends.FriendsHarness;

namespace QkChat.IntegrationTests.Friends;

/// <summary>
/// search_users has a budget per user (issue 16 point 5): an exact e-mail query answers "does this address have an
/// account", so unbounded searches would list who is registered. The harness runs the default, 30 a minute.
/// </summary>
public sealed class SearchBudgetTests
{
    private const int PerMinute = 30;

    [Fact(Timeout = 60_000)]
    public async Task Searches_beyond_the_per_user_budget_are_rate_limited_and_other_users_are_not()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var h = await StartAsync();
        await using TestUser me = await h.NewUserAsync(2), other = await h.NewUserAsync(1);
        for (int i = 0; i < PerMinute; i++)
        {
            // Alternating devices: the budget is the user's, not the connection's.
            var client = i % 2 == 0 ? me.Phone : me.Laptop;
            await Ok(client.RequestAsync("search_users", w => w.WriteString("query", UniqueEmail())));
        }
        var limited = await me.Laptop.RequestAsync("search_users", w => w.WriteString("query", other.Email));
        Assert.Equal(ErrorCodes.RateLimited, limited.Code);
        Assert.InRange(Data(limited).GetProperty("retry_after_ms").GetInt32(), 1, 60_000);
        await Ok(other.Phone.RequestAsync("search_users", w => w.WriteString("query", me.Email), ct: ct));
    }

    private static string UniqueEmail() => "nobody" + Guid.NewGuid().ToString("N")[..10] + "@example.org";
}
