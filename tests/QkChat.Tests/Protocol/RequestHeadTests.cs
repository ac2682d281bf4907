using System.Text;
using QkChat.Protocol;
using Xunit;

namespace QkChat.Tests.Protocol;

public sealed class RequestHeadTests
{
    private static (RequestHeadError Error, string? Action, string? RequestId) Read(byte[] body)
    {
        var action = new byte[RequestHead.MaxActionBytes];
        var id = new byte[256];
        var error = RequestHead.Read(body, action, out int a, id, out int r);
        return (error, a < 0 ? null : Encoding.UTF8.GetString(action, 0, a), r < 0 ? null : Encoding.UTF8.GetString(id, 0, r));
    }

    private static (RequestHeadError, string?, string?) Read(string json) => Read(Encoding.UTF8.GetBytes(json));

    [Theory]
    [InlineData("""{"action":"heartbeat","request_id":"7"}""", "heartbeat", "7")]
    [InlineData("""{"request_id":"x","nested":{"action":"no"},"action":"login"}""", "login", "x")]
    [InlineData("""{"action":"he\u0061rtbeat"}""", "heartbeat", null)]
    [InlineData(""" { "action" : "heartbeat" , "extra": [1, {"a": null}] } """, "heartbeat", null)]
    public void Valid_requests_yield_action_and_request_id(string json, string action, string? requestId)
    {
        var (error, a, r) = Read(json);
        Assert.Equal(RequestHeadError.None, error);
        Assert.Equal(action, a);
        Assert.Equal(requestId, r);
    }

    [Theory]
    [InlineData("""not json""", RequestHeadError.NotJson)]
    [InlineData("""{"action":""", RequestHeadError.NotJson)]
    [InlineData("""{"action":"heartbeat"} {}""", RequestHeadError.NotJson)]
    [InlineData("""{"action":"heartbeat",}""", RequestHeadError.NotJson)]
    [InlineData("""[1,2]""", RequestHeadError.NotAnObject)]
    [InlineData("\"heartbeat\"", RequestHeadError.NotAnObject)]
    [InlineData("""{}""", RequestHeadError.ActionMissing)]
    [InlineData("""{"action":5}""", RequestHeadError.ActionNotString)]
    [InlineData("""{"action":"heartbeat","request_id":5}""", RequestHeadError.RequestIdNotString)]
    public void Malformed_bodies_are_classified(string json, RequestHeadError expected) =>
        Assert.Equal(expected, Read(json).Item1);

    [Fact]
    public void Invalid_utf8_and_deep_nesting_are_rejected()
    {
        Assert.Equal(RequestHeadError.NotUtf8, Read([(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}']).Error);
        string deep = "{\"action\":\"heartbeat\",\"x\":" + new string('[', 5000) + new string(']', 5000) + "}";
        Assert.Equal(RequestHeadError.TooDeep, Read(deep).Item1);
    }

    [Fact]
    public void Request_id_is_limited_to_64_characters_counted_like_a_client()
    {
        Assert.Equal(RequestHeadError.None, Read($$"""{"action":"a","request_id":"{{new string('x', 64)}}"}""").Item1);
        Assert.Equal(RequestHeadError.RequestIdTooLong, Read($$"""{"action":"a","request_id":"{{new string('x', 65)}}"}""").Item1);
        Assert.Equal(RequestHeadError.None, Read($$"""{"action":"a","request_id":"{{new string('好', 64)}}"}""").Item1);
        Assert.Equal(RequestHeadError.RequestIdTooLong, Read($$"""{"action":"a","request_id":"{{string.Concat(Enumerable.Repeat("😀", 33))}}"}""").Item1);
    }

    [Fact]
    public void An_overlong_action_is_not_a_string_we_route()
    {
        Assert.Equal(RequestHeadError.ActionNotString, Read($$"""{"action":"{{new string('a', 65)}}"}""").Item1);
    }

    [Theory]
    [InlineData("""{"action":"\ud800"}""")]
    [InlineData("""{"action":"heartbeat","request_id":"\udc00"}""")]
    [InlineData("""{"action":"heartbeat","request_id":"a\ud800b"}""")]
    [InlineData("""{"action":"heartbeat","request_id":"\ud800\u0041"}""")]
    [InlineData("""{"action":"login","username":"\uDBFF"}""")]
    [InlineData("""{"action":"login","nested":{"deep":["\udfff\ud800"]}}""")]
    [InlineData("""{"action":"login","\ud800":1}""")]
    [InlineData("""{"action":"login","x":"\\\ud800"}""")]
    public void Escaped_lone_surrogates_anywhere_are_not_valid_strings(string json) =>
        Assert.Equal(RequestHeadError.LoneSurrogate, Read(json).Item1);

    [Theory]
    [InlineData("""{"action":"heartbeat","request_id":"\ud83d\ude00"}""")]
    [InlineData("""{"action":"heartbeat","x":"\\ud800"}""")]
    [InlineData("""{"action":"heartbeat","x":"\\\\ud800 \"\/\b\f\n\r\t \u00e9"}""")]
    public void Escaped_pairs_and_escaped_backslashes_are_fine(string json) =>
        Assert.Equal(RequestHeadError.None, Read(json).Item1);
}
