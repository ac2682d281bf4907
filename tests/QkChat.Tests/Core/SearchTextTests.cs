using QkChat.Core.Friends;
using QkChat.Core.Messaging;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>The search terms and keyword queries of search_messages, and the §7 friend field rules.</summary>
public sealed class SearchTextTests
{
    [Fact]
    public void Words_are_lowercased_with_a_marker_and_cjk_runs_become_pairs_then_their_last_character()
    {
        Assert.Equal("qwhello qwworld qw42", SearchText.Terms("Hello, WORLD! 42"));
        Assert.Equal("qc我们 qc们明 qc明天 qc天", SearchText.Terms("我们明天"));
        Assert.Equal("qwmeet qc明天 qc天 qwok qc京", SearchText.Terms("meet明天ok 京"));
        // A combining accent is dropped (invariant globalization cannot compose it); the accent-insensitive
        // collation still lets "cafe" and "café" find each other.
        Assert.Equal("qwcafe", SearchText.Terms("cafe\u0301"));
        Assert.Equal("qwcafé", SearchText.Terms("Café"));
        Assert.Equal("", SearchText.Terms("?! ..."));
        Assert.Equal("qw" + new string('a', SearchText.MaxWordChars), SearchText.Terms(new string('A', 100)));
    }

    [Fact]
    public void Stored_terms_and_queries_are_scoped_to_a_user()
    {
        Assert.Equal("100000001qwhi 100000001qc明天 100000001qc天 200000002qwhi 200000002qc明天 200000002qc天",
            SearchText.Terms("Hi 明天", 100_000_001, 200_000_002));
        Assert.Equal("", SearchText.Terms("...", 100_000_001, 200_000_002));
        Assert.Equal("+100000001qwhi* +\"100000001qc天在 100000001qc在北\"", SearchText.Query("hi 天在北", 100_000_001));
    }

    [Fact]
    public void Group_entry_terms_are_written_once_behind_the_group_id()
    {
        Assert.Equal("7qwhi 7qc明天 7qc天", SearchText.GroupTerms("Hi 明天", 7));
        Assert.Equal("", SearchText.GroupTerms("?!", 7));
        // The longest group id and the longest word stay within innodb_ft_max_token_size (84).
        string longest = SearchText.GroupTerms(new string('a', 200), long.MaxValue);
        Assert.Equal(long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture) + "qw" + new string('a', SearchText.MaxWordChars), longest);
        Assert.True(longest.Length <= 84);
    }

    [Fact]
    public void A_group_query_requires_every_part_in_any_one_of_the_callers_groups()
    {
        // One group: exactly a user-scoped query with the group id as scope.
        Assert.Equal("+7qwhi* +\"7qc天在 7qc在北\"", SearchText.GroupQuery("hi 天在北", [7]));
        // Several: each part is a required alternation over the groups; an entry holds only its own group's terms, so the
        // parts it matches are all of one group.
        Assert.Equal("+(7qwhi* 12qwhi*) +(7qc明天 12qc明天) +(7qc京* 12qc京*) +(\"7qc天在 7qc在北\" \"12qc天在 12qc在北\")",
            SearchText.GroupQuery("hi 明天 京 天在北", [7, 12]));
        Assert.Null(SearchText.GroupQuery("hi", []));
        Assert.Null(SearchText.GroupQuery(" ?! ", [7, 12]));
    }

    [Fact]
    public void A_keyword_needs_every_part_words_by_prefix_and_cjk_runs_as_adjacent_pairs()
    {
        Assert.Equal("+qwhel*", SearchText.Query("Hel"));
        Assert.Equal("+qwhello* +qwworld*", SearchText.Query("hello world"));
        Assert.Equal("+qc明*", SearchText.Query("明"));
        Assert.Equal("+qc明天", SearchText.Query("明天"));
        Assert.Equal("+\"qc天在 qc在北 qc北京\"", SearchText.Query("天在北京"));
        Assert.Equal("+qwiphone* +qc手机", SearchText.Query("iPhone手机"));
        // Boolean-mode operators in a keyword are separators: they can never reach the query.
        Assert.Equal("+qwa* +qwb*", SearchText.Query("+a -b*"));
        Assert.Null(SearchText.Query("\"*()~<>"));
        Assert.Equal("qw" + new string('a', SearchText.MaxWordChars), SearchText.Query(new string('a', 99))![1..^1]);
    }

    [Theory]
    [InlineData("カタカナ", true)]
    [InlineData("ひらがな", true)]
    [InlineData("한국어", false)] // Korean is written with spaces: words
    [InlineData("abc", false)]
    public void Scripts_without_spaces_are_the_cjk_ones(string text, bool cjk) =>
        Assert.Equal(cjk, text.EnumerateRunes().All(SearchText.IsCjk));

    [Fact]
    public void Remarks_and_category_names_are_trimmed_single_lines_within_their_lengths()
    {
        Assert.Null(FriendRules.Remark("  boss ", out string remark));
        Assert.Equal("boss", remark);
        Assert.Null(FriendRules.Remark("", out remark));
        Assert.Equal("", remark);
        Assert.Null(FriendRules.Remark(string.Concat(Enumerable.Repeat("😀", 64)), out _)); // 64 code points, 128 UTF-16 units
        Assert.StartsWith("remark:", FriendRules.Remark(new string('x', 65), out _));
        Assert.StartsWith("remark:", FriendRules.Remark("a\nb", out _));
        Assert.StartsWith("remark:", FriendRules.Remark(null, out _));
        Assert.Null(FriendRules.CategoryName(" Work ", "group_name", out string name));
        Assert.Equal("Work", name);
        Assert.StartsWith("group_name:", FriendRules.CategoryName("  ", "group_name", out _));
        Assert.StartsWith("new_name:", FriendRules.CategoryName(new string('g', 33), "new_name", out _));
        Assert.StartsWith("new_name:", FriendRules.CategoryName("bad\ud800", "new_name", out _));
        Assert.Null(FriendRules.CategoryId(0, allowDefault: true, out _));
        Assert.NotNull(FriendRules.CategoryId(0, allowDefault: false, out _));
        Assert.NotNull(FriendRules.CategoryId(-1, allowDefault: true, out _));
        Assert.NotNull(FriendRules.CategoryId(1L << 32, allowDefault: true, out _));
    }
}
