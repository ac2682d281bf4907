using System.Text.Json;
using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Friends.FriendsHarness;

namespace QkChat.IntegrationTests.Friends;

/// <summary>search_users: the three kinds of match, status, limits, and input that looks like SQL.</summary>
public sealed class SearchTests
{
    private static async Task<List<JsonElement>> Search(ChatClient client, string query, int? limit = null) =>
        Data(await Ok(client.RequestAsync("search_users", w =>
        {
            w.WriteString("query", query);
            if (limit is { } l) w.WriteNumber("limit", l);
        }))).GetProperty("users").EnumerateArray().ToList();

    [Fact(Timeout = 60_000)]
    public async Task Finds_by_username_prefix_exact_email_and_exact_id_never_showing_email()
    {
        await using var h = await StartAsync();
        await using TestUser me = await h.NewUserAsync(1), online = await h.NewUserAsync(1);
        await using var offline = await h.RegisterAsync();

        var byPrefix = await Search(me.Phone, online.Name[..8].ToUpperInvariant());
        var hit = Assert.Single(byPrefix);
        Assert.Equal(online.Id, hit.GetProperty("user_id").GetUInt32());
        Assert.Equal(online.Name, hit.GetProperty("username").GetString());
        Assert.Equal("online", hit.GetProperty("status").GetString());
        Assert.Equal(["status", "user_id", "username"], hit.EnumerateObject().Select(p => p.Name).Order());

        var byEmail = Assert.Single(await Search(me.Phone, offline.Email.ToUpperInvariant()));
        Assert.Equal(offline.Id, byEmail.GetProperty("user_id").GetUInt32());
        Assert.Equal("offline", byEmail.GetProperty("status").GetString());
        Assert.Empty(await Search(me.Phone, offline.Email[..5] + "@example.org")); // e-mails match only exactly

        var byId = Assert.Single(await Search(me.Phone, offline.Id.ToString()));
        Assert.Equal(offline.Name, byId.GetProperty("username").GetString());
        Assert.Empty(await Search(me.Phone, offline.Id.ToString()[..8])); // ids match only exactly

        // Oneself is not hidden.
        Assert.Equal(me.Id, Assert.Single(await Search(me.Phone, me.Name)).GetProperty("user_id").GetUInt32());
        // No answer anywhere carries an e-mail.
        foreach (var user in byPrefix.Concat([byEmail, byId])) Assert.False(user.TryGetProperty("email", out _));
    }

    [Fact(Timeout = 60_000)]
    public async Task Limits_and_ordering()
    {
        await using var h = await StartAsync();
        await using var me = await h.NewUserAsync(1);
        // Every harness username starts with "u": all of these match the prefix "u".
        var others = new List<TestUser>();
        for (int i = 0; i < 4; i++) others.Add(await h.RegisterAsync());

        var three = await Search(me.Phone, "u", 3);
        Assert.Equal(3, three.Count);
        var names = three.Select(u => u.GetProperty("username").GetString()!).ToList();
        Assert.Equal(names.Order(StringComparer.OrdinalIgnoreCase), names);
        Assert.Equal(5, (await Search(me.Phone, "u")).Count); // default 20

        foreach (var (fields, field) in new (Action<Utf8JsonWriter>, string)[]
                 {
                     (_ => { }, "query"),
                     (w => w.WriteString("query", "   "), "query"),
                     (w => w.WriteNumber("query", 5), "query"),
                     (w => w.WriteString("query", new string('a', 255)), "query"),
                     (w => { w.WriteString("query", "u"); w.WriteNumber("limit", 0); }, "limit"),
                     (w => { w.WriteString("query", "u"); w.WriteNumber("limit", 51); }, "limit"),
                     (w => { w.WriteString("query", "u"); w.WriteString("limit", "5"); }, "limit"),
                 })
        {
            var r = await me.Phone.RequestAsync("search_users", fields);
            Assert.Equal(ErrorCodes.InvalidArgument, r.Code);
            Assert.StartsWith(field + ":", r.Message);
        }
        Assert.Equal(5, (await Search(me.Phone, "u", 50)).Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task Sql_shaped_queries_are_only_ever_values()
    {
        await using var h = await StartAsync();
        await using TestUser me = await h.NewUserAsync(1), other = await h.NewUserAsync(1);
        foreach (string query in new[] { "1' -- ", "' OR 1=1 -- ", "x'or'1'='1@example.org", "%", "u%", "\\", "'; DROP TABLE users; --" })
            Assert.Empty(await Search(me.Phone, query));
        // '_' is a username character and a LIKE wildcard: it matches itself only.
        Assert.Empty(await Search(me.Phone, "u_"));
        Assert.Equal(2, await h.Db.ScalarAsync("SELECT COUNT(*) FROM users"));
        Assert.Single(await Search(me.Phone, other.Name));
    }
}
