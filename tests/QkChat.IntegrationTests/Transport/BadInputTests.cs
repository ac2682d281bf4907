using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Transport;

/// <summary>Hostile and broken input gets its specified answer, and the server keeps serving everyone else.</summary>
public sealed class BadInputTests
{
    public static TheoryData<string, byte[]> BadBodies => new()
    {
        { "garbage", "@@@ not json @@@"u8.ToArray() },
        { "truncated", """{"action":"heartbeat","request_id":"""u8.ToArray() },
        { "array", "[1,2,3]"u8.ToArray() },
        { "invalid utf-8", [.. "{\"action\":\""u8, 0xFF, 0xFE, .. "\"}"u8] },
        { "deep nesting", System.Text.Encoding.UTF8.GetBytes("{\"action\":\"heartbeat\",\"x\":" + new string('[', 10_000) + new string(']', 10_000) + "}") },
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(BadBodies))]
    public async Task A_bad_body_gets_BAD_JSON_and_the_connection_stays_usable(string what, byte[] body)
    {
        await using var server = InProcessServer.Start(t => t.MaxFrameBytes = 65_536);
        using var client = await server.ConnectAsync();
        await client.SendAsync(QkChat.Protocol.Framing.Encode(body));
        var response = await client.ReadAsync();
        Assert.False(response.GetProperty("success").GetBoolean(), what);
        Assert.Equal("BAD_JSON", response.Str("code"));
        Assert.False(string.IsNullOrEmpty(response.Str("message")));

        await client.SendAsync(RawClient.Heartbeat("after"));
        Assert.Equal("after", (await client.ReadAsync()).Str("request_id"));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("""{"request_id":"m"}""", "action")]
    [InlineData("""{"action":7,"request_id":"m"}""", "action")]
    [InlineData("""{"action":"heartbeat","request_id":12}""", "request_id")]
    public async Task A_missing_or_ill_typed_envelope_field_is_INVALID_ARGUMENT_naming_it(string json, string field)
    {
        await using var server = InProcessServer.Start();
        using var client = await server.ConnectAsync();
        await client.SendJsonAsync(json);
        var response = await client.ReadAsync();
        Assert.Equal("INVALID_ARGUMENT", response.Str("code"));
        Assert.StartsWith(field, response.Str("message"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Unknown_actions_and_actions_needing_login_are_answered_with_their_codes()
    {
        await using var server = InProcessServer.Start(routes: (router, _) => router.Register("needs_login", false, c => c.Respond("OK", "ok")));
        using var client = await server.ConnectAsync();
        await client.SendJsonAsync("""{"action":"fly_to_moon","request_id":"1"}""");
        var unknown = await client.ReadAsync();
        Assert.Equal("UNKNOWN_ACTION", unknown.Str("code"));
        Assert.Equal("fly_to_moon", unknown.Str("action"));
        await client.SendJsonAsync("""{"action":"needs_login","request_id":"2"}""");
        Assert.Equal("UNAUTHENTICATED", (await client.ReadAsync()).Str("code"));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(new byte[] { 0, 0, 0, 0 }, "BAD_FRAME")]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3 }, "FRAME_TOO_LARGE")]
    [InlineData(new byte[] { 0x00, 0x01, 0x00, 0x01 }, "FRAME_TOO_LARGE")]
    public async Task A_zero_or_oversize_length_gets_an_error_push_and_a_close_and_others_are_unaffected(byte[] bytes, string code)
    {
        await using var server = InProcessServer.Start();
        using var bystander = await server.ConnectAsync();
        using var client = await server.ConnectAsync();
        await client.SendAsync(bytes);
        var push = await client.ReadAsync();
        Assert.Equal("error", push.Str("action"));
        Assert.True(push.GetProperty("push").GetBoolean());
        Assert.Equal(code, push.Code());
        Assert.True(await client.ClosedAsync());

        await bystander.SendAsync(RawClient.Heartbeat("still here"));
        Assert.Equal("still here", (await bystander.ReadAsync()).Str("request_id"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Repeated_garbage_closes_the_connection_after_the_configured_number_of_strikes()
    {
        await using var server = InProcessServer.Start(chat: c => c.MaxConsecutiveBadFrames = 5);
        using var client = await server.ConnectAsync();
        for (int i = 0; i < 5; i++) await client.SendAsync(RawClient.Frame("nope"));
        for (int i = 0; i < 5; i++) Assert.Equal("BAD_JSON", (await client.ReadAsync()).Str("code"));
        var push = await client.ReadAsync();
        Assert.Equal("error", push.Str("action"));
        Assert.True(await client.ClosedAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_peer_that_vanishes_mid_frame_is_cleaned_up()
    {
        await using var server = InProcessServer.Start();
        for (int i = 0; i < 50; i++)
        {
            using var client = await server.ConnectAsync();
            await client.SendAsync(RawClient.Heartbeat("x")[..7]);
        }
        await server.EventuallyAsync(() => server.Engine.OpenConnections == 0 && server.Engine.Limiter.Total == 0, "all closed");
    }
}
