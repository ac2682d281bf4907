using System.Text.Json;
using QkChat.Core.Friends;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>The friend field rules: what user_identifier means in each form, and the search query's matches.</summary>
public sealed class FriendRulesTests
{
    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Theory]
    [InlineData("123456789", TargetKind.UserId, 123456789u, null)]
    [InlineData("999999999", TargetKind.UserId, 999999999u, null)]
    [InlineData("\"123456789\"", TargetKind.UserId, 123456789u, null)]
    [InlineData("\" 123456789 \"", TargetKind.UserId, 123456789u, null)]
    [InlineData("\"Zhang_San\"", TargetKind.Username, 0u, "Zhang_San")]
    [InlineData("\"123456789a\"", TargetKind.Username, 0u, "123456789a")]
    [InlineData("\"User@Example.ORG\"", TargetKind.Email, 0u, "user@example.org")]
    [InlineData("\"o'brien@example.ie\"", TargetKind.Email, 0u, "o'brien@example.ie")]
    public void Reads_identifiers(string json, TargetKind kind, uint id, string? text)
    {
        Assert.Null(FriendRules.Identifier(Json(json), out var target));
        Assert.Equal(new FriendTarget(kind, id, text), target);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("12.5")]
    [InlineData("99999999")]
    [InlineData("1000000000")]
    [InlineData("-123456789")]
    [InlineData("1e20")]
    [InlineData("\"\"")]
    [InlineData("\"   \"")]
    [InlineData("\"12345\"")]
    [InlineData("\"012345678\"")]
    [InlineData("\"1234567890\"")]
    [InlineData("\"1' -- \"")]
    [InlineData("\"a' OR '1'='1\"")]
    [InlineData("\"ab\"")]
    [InlineData("\"a@b\"")]
    [InlineData("\"x@@example.org\"")]
    public void Rejects_identifiers(string json)
    {
        Assert.StartsWith("user_identifier: ", FriendRules.Identifier(Json(json), out _));
    }

    [Fact]
    public void A_missing_identifier_is_required() =>
        Assert.Equal("user_identifier: required", FriendRules.Identifier(null, out _));

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("line one\nline two\ttab", true)]
    [InlineData("😀 表情", true)]
    [InlineData("a\u0000b", false)]
    [InlineData("a\u001bb", false)]
    public void Checks_messages(string? message, bool ok) => Assert.Equal(ok, FriendRules.Message(message) is null);

    [Fact]
    public void A_lone_surrogate_is_not_text() => Assert.NotNull(FriendRules.Message("a" + (char)0xD800 + "b"));

    [Fact]
    public void Messages_are_counted_in_utf16_units()
    {
        Assert.Null(FriendRules.Message(new string('好', 200)));
        Assert.NotNull(FriendRules.Message(new string('好', 201)));
        Assert.NotNull(FriendRules.Message(string.Concat(Enumerable.Repeat("😀", 101)))); // 202 units
    }

    [Theory]
    [InlineData("123456789", 123456789u, null, "123456789")]
    [InlineData("Zhang", null, null, "Zhang")]
    [InlineData("a_b", null, null, "a_b")]
    [InlineData("Someone@Example.org", null, "someone@example.org", null)]
    [InlineData("1' -- ", null, null, null)]
    [InlineData("%", null, null, null)]
    [InlineData("12345678", null, null, "12345678")]
    [InlineData("012345678", null, null, "012345678")]
    public void Decides_what_a_query_can_match(string query, uint? id, string? email, string? prefix)
    {
        Assert.Null(FriendRules.Query(query, out var search));
        Assert.Equal(new UserSearch(id, email, prefix), search);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void A_query_is_required(string? query) => Assert.Equal("query: required", FriendRules.Query(query, out _));

    [Theory]
    [InlineData("abc", "abc%")]
    [InlineData("a_b", "a!_b%")]
    [InlineData("a%b!", "a!%b!!%")]
    public void Escapes_like_patterns(string prefix, string pattern) => Assert.Equal(pattern, FriendRules.LikePrefix(prefix));

    [Theory]
    [InlineData(null, 20, true)]
    [InlineData(1, 1, true)]
    [InlineData(50, 50, true)]
    [InlineData(0, 0, false)]
    [InlineData(51, 51, false)]
    public void Limits(int? value, int expected, bool ok)
    {
        Assert.Equal(ok, FriendRules.Limit(value, out int limit) is null);
        Assert.Equal(expected, limit);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData(0L, false)]
    [InlineData(1L, true)]
    [InlineData(9007199254740991L, true)]
    [InlineData(9007199254740992L, false)]
    public void Request_ids_are_positive_and_below_2_pow_53(long? value, bool ok) =>
        Assert.Equal(ok, FriendRules.RequestId(value, out _) is null);
}
