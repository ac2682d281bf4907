using System.Globalization;
using System.Text;

namespace QkChat.Core.Messaging;

/// <summary>
/// The terms search_messages indexes (MariaDB InnoDB FULLTEXT over message_search.terms) and the boolean-mode query
/// for a keyword (protocol.md §8). MariaDB has no ngram parser and its default one treats a run of Chinese or
/// Japanese as one word, so the server writes the terms itself:
/// <list type="bullet">
/// <item>a word of a spaced script (letters and digits, lowercased) becomes "qw" + word: a keyword word
/// matches as a word start with the prefix query <c>qwkey*</c>;</item>
/// <item>a run of Chinese or Japanese characters becomes its overlapping two-character terms "qc" + pair, then
/// "qc" + its last character: a keyword of n &gt;= 3 such characters is the phrase of its n-1 pairs (InnoDB checks
/// that they are adjacent), of 2 the single pair, of 1 the prefix <c>qcX*</c> (any pair starting with it, or the
/// run's last character).</item>
/// </list>
/// The two-letter markers keep every term at least 3 characters long (innodb_ft_min_token_size defaults to 3 and
/// is a server-wide setting the application cannot lower) and never equal to a stopword.
/// <para>Every term is written twice, once behind the sender's user id and once behind the receiver's
/// ("123456789qwhello"), and a query asks for the searcher's own: the FULLTEXT lookup then reads only the searcher's
/// postings, so its cost follows how many of the searcher's messages match, not how many of everyone's do (measured
/// in bench/RESULTS.md: a common word among 100,000 messages went from tens of ms to a few).
/// A group entry's terms are written once, behind its group id, and a search names the caller's groups
/// (<see cref="GroupTerms"/>, <see cref="GroupQuery"/>).</para>
/// Pure, for unit tests.
/// </summary>
public static class SearchText
{
    public const string WordMarker = "qw", CjkMarker = "qc";

    // innodb_ft_max_token_size is 84 characters: longer words would not be indexed at all, so they are cut (a
    // keyword is cut the same way, so a prefix still matches).
    public const int MaxWordChars = 60;

    private enum Kind
    {
        Separator,
        Word,
        Cjk,
    }

    /// <summary>The space-separated terms of a message's content, for its sender and then for its receiver.</summary>
    public static string Terms(string content, uint senderId, uint receiverId)
    {
        string terms = Terms(content);
        if (terms.Length == 0) return "";
        return Scoped(terms, senderId) + " " + Scoped(terms, receiverId);
    }

    /// <summary>
    /// The terms of a group entry, once, behind its group id ("7qwhello"): every member searches the same copy, and a
    /// query names the caller's groups (<see cref="GroupQuery"/>). A group id has at most 20 digits, so a term stays
    /// within innodb_ft_max_token_size (84) with <see cref="MaxWordChars"/>.
    /// </summary>
    public static string GroupTerms(string content, long groupId)
    {
        string terms = Terms(content);
        return terms.Length == 0 ? "" : Scoped(terms, Scope(groupId));
    }

    private static string Scoped(string terms, uint userId) => Scoped(terms, Scope(userId));

    private static string Scoped(string terms, string prefix) => prefix + terms.Replace(" ", " " + prefix, StringComparison.Ordinal);

    private static string Scope(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The space-separated terms of a text, not yet scoped to a user.</summary>
    public static string Terms(string content)
    {
        var terms = new StringBuilder(content.Length * 2);
        foreach (var (kind, runes) in Segments(content))
        {
            if (kind == Kind.Word)
            {
                Append(terms, WordMarker, runes, 0, Math.Min(runes.Count, MaxWordChars));
                continue;
            }
            for (int i = 0; i + 1 < runes.Count; i++) Append(terms, CjkMarker, runes, i, 2);
            Append(terms, CjkMarker, runes, runes.Count - 1, 1);
        }
        return terms.ToString();
    }

    /// <summary>The query for <paramref name="userId"/>'s own messages (their scoped terms); null as <see cref="Query(string)"/>.</summary>
    public static string? Query(string keyword, uint userId) => Query(keyword, [Scope(userId)]);

    /// <summary>
    /// The query over the entries of <paramref name="groupIds"/> (their scoped terms, <see cref="GroupTerms"/>): every
    /// part of the keyword is required, each as "this part in one of these groups" (<c>+(7qwkey* 9qwkey*)</c>). An
    /// entry holds only its own group's terms, so all the parts it matches are of one group. Null when the keyword holds
    /// nothing searchable or there is no group.
    /// </summary>
    public static string? GroupQuery(string keyword, IReadOnlyList<long> groupIds) =>
        groupIds.Count == 0 ? null : Query(keyword, [.. groupIds.Select(Scope)]);

    /// <summary>
    /// The BOOLEAN MODE query for a keyword, unscoped: every word and run of the keyword is required. Null when the
    /// keyword holds nothing searchable (only punctuation or spaces): nothing can match it.
    /// </summary>
    public static string? Query(string keyword) => Query(keyword, [""]);

    /// <summary>Every part of the keyword required; a part with several scopes is required in any one of them.</summary>
    private static string? Query(string keyword, string[] scopes)
    {
        var query = new StringBuilder();
        foreach (var (kind, runes) in Segments(keyword))
        {
            if (query.Length > 0) query.Append(' ');
            query.Append('+');
            if (scopes.Length == 1)
            {
                AppendPart(query, kind, runes, scopes[0]);
                continue;
            }
            query.Append('(');
            for (int s = 0; s < scopes.Length; s++)
            {
                if (s > 0) query.Append(' ');
                AppendPart(query, kind, runes, scopes[s]);
            }
            query.Append(')');
        }
        return query.Length == 0 ? null : query.ToString();
    }

    private static void AppendPart(StringBuilder query, Kind kind, List<Rune> runes, string scope)
    {
        string word = scope + WordMarker, cjk = scope + CjkMarker;
        if (kind == Kind.Word)
        {
            query.Append(word);
            AppendRunes(query, runes, 0, Math.Min(runes.Count, MaxWordChars));
            query.Append('*');
        }
        else if (runes.Count == 1)
        {
            query.Append(cjk).Append(runes[0].ToString()).Append('*');
        }
        else if (runes.Count == 2)
        {
            query.Append(cjk);
            AppendRunes(query, runes, 0, 2);
        }
        else
        {
            // A phrase of the pairs: adjacent pairs in the text means the whole run is there, contiguous.
            query.Append('"');
            for (int i = 0; i + 1 < runes.Count; i++)
            {
                if (i > 0) query.Append(' ');
                query.Append(cjk);
                AppendRunes(query, runes, i, 2);
            }
            query.Append('"');
        }
    }

    private static void Append(StringBuilder terms, string marker, List<Rune> runes, int start, int count)
    {
        if (terms.Length > 0) terms.Append(' ');
        terms.Append(marker);
        AppendRunes(terms, runes, start, count);
    }

    private static void AppendRunes(StringBuilder text, List<Rune> runes, int start, int count)
    {
        for (int i = start; i < start + count; i++) text.Append(runes[i].ToString());
    }

    /// <summary>
    /// Words and CJK runs in order; words lowercased. Combining marks are dropped: the server runs with invariant
    /// globalization, which cannot compose them, and the accent-insensitive collation of the index makes "cafe"
    /// find "café" anyway (whether the accent was typed composed or not).
    /// </summary>
    private static IEnumerable<(Kind Kind, List<Rune> Runes)> Segments(string text)
    {
        var current = new List<Rune>();
        var kind = Kind.Separator;
        foreach (var rune in text.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark) continue;
            var next = IsCjk(rune) ? Kind.Cjk : Rune.IsLetterOrDigit(rune) ? Kind.Word : Kind.Separator;
            if (next != kind && current.Count > 0)
            {
                yield return (kind, current);
                current = [];
            }
            kind = next;
            if (next != Kind.Separator) current.Add(next == Kind.Word ? Rune.ToLowerInvariant(rune) : rune);
        }
        if (current.Count > 0) yield return (kind, current);
    }

    /// <summary>Scripts written without spaces between words: Han (with its extensions and 々), kana.</summary>
    public static bool IsCjk(Rune rune) => rune.Value switch
    {
        >= 0x3040 and <= 0x30FF => true, // Hiragana, Katakana
        >= 0x31F0 and <= 0x31FF => true, // Katakana phonetic extensions
        0x3005 or 0x3007 => true, // 々 〇
        >= 0x3400 and <= 0x4DBF => true, // CJK Extension A
        >= 0x4E00 and <= 0x9FFF => true, // CJK Unified Ideographs
        >= 0xF900 and <= 0xFAFF => true, // Compatibility Ideographs
        >= 0xFF66 and <= 0xFF9F => true, // Halfwidth Katakana
        >= 0x20000 and <= 0x3134F => true, // Extensions B-G
        _ => false,
    };
}
