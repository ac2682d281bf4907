using System.Text;
using QkChat.Server.Web;
using Xunit;

namespace QkChat.Tests.Web;

/// <summary>The handshake rules both ways in to `/ws` share (WebSocketHandshake): key check, accept key, Origin decision.</summary>
public sealed class WebSocketHandshakeTests
{
    // RFC 6455 §1.3's own example key and accept value.
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
    private const string Accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    [Fact]
    public void The_accept_key_is_RFC_6455s_from_a_string_and_from_bytes()
    {
        Assert.Equal(Accept, WebSocketHandshake.Accept(Key));
        var into = new byte[WebSocketHandshake.AcceptLength];
        Assert.Equal(WebSocketHandshake.AcceptLength, WebSocketHandshake.WriteAccept(Encoding.ASCII.GetBytes(Key), into));
        Assert.Equal(Accept, Encoding.ASCII.GetString(into));
    }

    [Theory]
    [InlineData(Key, true)]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ", false)]      // 22 characters
    [InlineData("dGhlIHNhbXBsZSBub25jZSE=", false)]    // 17 bytes
    [InlineData("dGhlIHNhbXBsZSBub25jZQ!=", false)]    // not base64
    [InlineData("dGhlIHNhbXBsZSBub25jZ\u00e9==", false)] // not ASCII
    public void A_key_is_base64_of_16_bytes_as_a_string_and_as_bytes(string key, bool valid)
    {
        Assert.Equal(valid, WebSocketHandshake.IsValidKey(key));
        Assert.Equal(valid, WebSocketHandshake.IsValidKey(Encoding.Latin1.GetBytes(key)));
    }

    [Theory]
    [InlineData("", "", true)]                                       // no Origin: not a browser
    [InlineData("", "http://127.0.0.1:8081", true)]                  // the listener's own origin
    [InlineData("", "HTTP://127.0.0.1:8081", true)]
    [InlineData("", "https://127.0.0.1:8081", false)]
    [InlineData("", "http://evil.example", false)]
    [InlineData("https://chat.example.org", "HTTPS://CHAT.EXAMPLE.ORG", true)]
    [InlineData("https://chat.example.org", "http://127.0.0.1:8081", false)] // a list replaces the own origin
    [InlineData("*", "http://evil.example", true)]
    public void The_Origin_decision(string setting, string origin, bool allowed) =>
        Assert.Equal(allowed, WebSocketHandshake.OriginAllowed(OriginPolicy.Parse(setting), origin, "http", "127.0.0.1:8081"));
}
