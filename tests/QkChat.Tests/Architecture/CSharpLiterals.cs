using System.Text;

namespace QkChat.Tests.Architecture;

/// <summary>
/// Finds the string literals of C# source text, enough for source-scanning tests: regular, verbatim (@), raw (""")
/// and UTF-8 (u8 suffix) literals with their values, skipping comments and character literals. Interpolated strings
/// are returned only when they have no holes (then they are constants too); literals inside holes are returned. Not a full lexer: preprocessor lines are
/// read as code, which is harmless for strings.
/// </summary>
internal static class CSharpLiterals
{
    public static IEnumerable<(string Text, int Line)> Strings(string source)
    {
        var found = new List<(string, int)>();
        int i = 0;
        while (i < source.Length)
        {
            char c = source[i];
            if (c == '/' && At(source, i + 1) == '/')
            {
                while (i < source.Length && source[i] != '\n') i++;
            }
            else if (c == '/' && At(source, i + 1) == '*')
            {
                int end = source.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? source.Length : end + 2;
            }
            else if (c == '\'')
            {
                i++;
                while (i < source.Length && source[i] != '\'') i += source[i] == '\\' ? 2 : 1;
                i++;
            }
            else if (c is '"' or '@' or '$' && StringStart(source, i) is { } start)
            {
                int line = LineOf(source, i);
                i = start.Interpolated
                    ? SkipInterpolated(source, start, found, out string? text)
                    : ReadPlain(source, start, out text);
                if (text is not null) found.Add((text, line));
            }
            else i++;
        }
        return found;
    }

    private readonly record struct Start(int QuoteAt, int Quotes, bool Verbatim, bool Interpolated);

    /// <summary>Is a string literal starting at <paramref name="i"/> (its prefix: @, $, $$..., @$, $@)? Where its quotes start.</summary>
    private static Start? StringStart(string s, int i)
    {
        // A prefix glued to an identifier (e.g. the end of "name@") is not a string start; C# has no such case for " .
        bool verbatim = false, interpolated = false;
        int j = i;
        while (j < s.Length && s[j] is '@' or '$')
        {
            verbatim |= s[j] == '@';
            interpolated |= s[j] == '$';
            j++;
        }
        if (j >= s.Length || s[j] != '"') return null;
        if (j > i && i > 0 && (char.IsLetterOrDigit(s[i - 1]) || s[i - 1] == '_')) return null;
        int quotes = 0;
        while (j + quotes < s.Length && s[j + quotes] == '"') quotes++;
        // "" is an empty string; three or more open a raw string.
        return new Start(j, quotes >= 3 ? quotes : 1, verbatim, interpolated);
    }

    private static int ReadPlain(string s, Start start, out string? text)
    {
        var value = new StringBuilder();
        int i = start.QuoteAt + start.Quotes;
        if (start.Quotes >= 3)
        {
            string close = new('"', start.Quotes);
            int end = s.IndexOf(close, i, StringComparison.Ordinal);
            if (end < 0) end = s.Length;
            string raw = s[i..end];
            // A multi-line raw string drops its first and last lines and the closing line's indentation: trimming is
            // close enough for comparing with a name.
            text = raw.Contains('\n', StringComparison.Ordinal) ? raw.Trim() : raw;
            return SkipSuffix(s, end + close.Length);
        }
        while (i < s.Length)
        {
            char c = s[i];
            if (start.Verbatim)
            {
                if (c == '"' && At(s, i + 1) == '"') { value.Append('"'); i += 2; continue; }
                if (c == '"') break;
                value.Append(c);
                i++;
            }
            else
            {
                if (c == '"' || c == '\n') break;
                if (c == '\\') { value.Append(Unescape(At(s, i + 1))); i += 2; continue; }
                value.Append(c);
                i++;
            }
        }
        text = value.ToString();
        return SkipSuffix(s, i + 1);
    }

    /// <summary>Walks over an interpolated string; its text counts only when it has no holes.</summary>
    private static int SkipInterpolated(string s, Start start, List<(string, int)> found, out string? text)
    {
        int i = start.QuoteAt + start.Quotes;
        if (start.Quotes >= 3)
        {
            string close = new('"', start.Quotes);
            int end = s.IndexOf(close, i, StringComparison.Ordinal);
            text = null;   // raw interpolated strings: never a bare name in practice
            return end < 0 ? s.Length : end + close.Length;
        }
        var value = new StringBuilder();
        bool holes = false;
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '{' && At(s, i + 1) == '{') { value.Append('{'); i += 2; continue; }
            if (c == '}' && At(s, i + 1) == '}') { value.Append('}'); i += 2; continue; }
            if (c == '{')
            {
                holes = true;
                i = SkipHole(s, i + 1, found);
                continue;
            }
            if (start.Verbatim)
            {
                if (c == '"' && At(s, i + 1) == '"') { value.Append('"'); i += 2; continue; }
                if (c == '"') break;
            }
            else
            {
                if (c == '"' || c == '\n') break;
                if (c == '\\') { value.Append(Unescape(At(s, i + 1))); i += 2; continue; }
            }
            value.Append(c);
            i++;
        }
        text = holes ? null : value.ToString();
        return i + 1;
    }

    /// <summary>Past the hole's closing brace, stepping over nested braces and characters; strings inside it are code too.</summary>
    private static int SkipHole(string s, int i, List<(string, int)> found)
    {
        int depth = 1;
        while (i < s.Length && depth > 0)
        {
            char c = s[i];
            if (c == '{') depth++;
            else if (c == '}') depth--;
            else if (c == '\'')
            {
                i++;
                while (i < s.Length && s[i] != '\'') i += s[i] == '\\' ? 2 : 1;
            }
            else if (c is '"' or '@' or '$' && StringStart(s, i) is { } inner)
            {
                int line = LineOf(s, i);
                i = inner.Interpolated ? SkipInterpolated(s, inner, found, out string? text) : ReadPlain(s, inner, out text);
                if (text is not null) found.Add((text, line));
                continue;
            }
            i++;
        }
        return i;
    }

    private static int SkipSuffix(string s, int i) =>
        i + 1 < s.Length && (s[i] is 'u' or 'U') && s[i + 1] == '8' ? i + 2 : i;

    private static char Unescape(char c) => c switch
    {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        '0' => '\0',
        _ => c,   // \" \\ \' and the rest: the character itself is close enough for name comparison
    };

    private static char At(string s, int i) => i < s.Length ? s[i] : '\0';

    private static int LineOf(string s, int index)
    {
        int line = 1;
        for (int k = 0; k < index; k++) if (s[k] == '\n') line++;
        return line;
    }
}
