using FsCheck;
using FsCheck.Fluent;

namespace QkChat.Tests.Core;

/// <summary>FsCheck generators for the account fields: valid values by construction, and hostile strings.</summary>
internal static class InputRulesGenerators
{
    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const string Digits = "0123456789";
    private const string UsernameChars = Letters + Digits + "_";
    private const string Atext = Letters + Digits + "!#$%&'*+-/=?^_`{|}~";
    private const string LabelChars = Letters + Digits;

    // Characters validators stumble on: separators, controls, broken surrogates, look-alikes, non-ASCII letters.
    private static readonly char[] Nasty =
    [
        '\0', '\t', '\n', '\r', ' ', '\u0085', '\u00A0', '\u200B', '\u202E', '\uFEFF', '\uD800', '\uDBFF', '\uDC00',
        '\uDFFF', '@', '.', '-', '_', '$', '"', '\\', '[', ']', '(', ')', ',', ';', ':', '<', '>', 'é', 'ß', 'İ', 'ı',
        '\u212A' /* Kelvin sign */, '中', '０' /* fullwidth zero */, '٣' /* Arabic-Indic three */, 'a', 'Z', '0', '9',
    ];

    private static Gen<char> CharFrom(string chars) => Gen.Elements(chars.ToCharArray());

    private static Gen<string> StringOf(Gen<char> chars, int min, int max) =>
        Gen.Choose(min, max).SelectMany(n => Gen.ArrayOf(chars, n)).Select(a => new string(a));

    /// <summary>Anything at all: null, empty, random UTF-16 (lone surrogates included), nasty mixes, huge.</summary>
    public static Arbitrary<string?> AnyString()
    {
        var nasty = Gen.Elements(Nasty);
        var anyChar = Gen.Choose(0, 0xFFFF).Select(i => (char)i);
        var mixed = Gen.Frequency((3, nasty), (2, anyChar), (2, CharFrom(UsernameChars)));
        return Gen.Frequency<string?>(
                (1, Gen.Constant<string?>(null)),
                (1, Gen.Constant<string?>("")),
                (6, StringOf(mixed, 0, 80).Select(s => (string?)s)),
                (2, StringOf(anyChar, 0, 300).Select(s => (string?)s)),
                (1, StringOf(mixed, 250, 600).Select(s => (string?)s)),
                (2, ValidEmail().Generator.SelectMany(e => Mutate(e)).Select(s => (string?)s)))
            .ToArbitrary();
    }

    /// <summary>3 to 32 of [A-Za-z0-9_] with at least one non-digit.</summary>
    public static Arbitrary<string> ValidUsername() =>
        (from length in Gen.Choose(3, 32)
         from chars in Gen.ArrayOf(CharFrom(UsernameChars), length)
         from at in Gen.Choose(0, length - 1)
         from nonDigit in CharFrom(Letters + "_")
         select Put(chars, at, nonDigit)).ToArbitrary();

    /// <summary>A dot-atom local part of 1-64 and a domain of 2-4 labels whose last one has a letter.</summary>
    public static Arbitrary<string> ValidEmail()
    {
        var atom = StringOf(CharFrom(Atext), 1, 12);
        var local = Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(atom, n)).Select(a => string.Join('.', a))
            .Where(l => l.Length <= 64);
        var label = from body in StringOf(CharFrom(LabelChars + "-"), 0, 10)
                    from first in CharFrom(LabelChars)
                    from last in CharFrom(LabelChars)
                    select body.Length == 0 ? first.ToString() : first + body + last;
        var tld = StringOf(CharFrom(Letters), 2, 8);
        var domain = from labels in Gen.Choose(1, 3).SelectMany(n => Gen.ArrayOf(label, n))
                     from top in tld
                     select string.Join('.', labels) + "." + top;
        return (from l in local from d in domain select l + "@" + d).ToArbitrary();
    }

    /// <summary>8 to 128 UTF-16 units of anything but NUL and broken surrogates: spaces, scripts, emoji pairs.</summary>
    public static Arbitrary<string> ValidPassword()
    {
        var bmp = Gen.Choose(1, 0xFFFF).Where(i => !char.IsSurrogate((char)i)).Select(i => ((char)i).ToString());
        var ascii = Gen.Choose(0x20, 0x7E).Select(i => ((char)i).ToString());
        var emoji = Gen.Choose(0x1F300, 0x1FAFF).Select(char.ConvertFromUtf32);
        var piece = Gen.Frequency((5, ascii), (3, bmp), (1, emoji));
        return Gen.Choose(8, 128).SelectMany(target => Gen.ArrayOf(piece, target).Select(parts => Fit(parts, target)))
            .ToArbitrary();
    }

    /// <summary>A random 6-digit code, leading zeros included.</summary>
    public static Arbitrary<string> ValidCode() => StringOf(CharFrom(Digits), 6, 6).ToArbitrary();

    /// <summary>Ways to break a valid e-mail; each result is invalid.</summary>
    public static Gen<string> Mutate(string email)
    {
        int at = email.IndexOf('@');
        return Gen.OneOf(
            Gen.Constant(email.Replace("@", "")),
            Gen.Constant(email.Insert(at, "@x")),
            Gen.Constant(email[..at]),
            Gen.Constant(email[(at + 1)..]),
            Gen.Constant("." + email),
            Gen.Constant(email[..at] + ".@" + email[(at + 1)..]),
            Gen.Constant(email + "."),
            Gen.Constant(email[..(at + 1)] + "localhost"),
            Gen.Constant(email[..(at + 1)] + "-" + email[(at + 1)..]),
            Gen.Constant(new string('a', 65) + email[at..]),
            Gen.Constant(email + "." + new string('a', 254)),
            Gen.Choose(0, email.Length).SelectMany(i => Gen.Elements(' ', '\0', '\t', 'é', '"', '(', '\uD800', ',')
                .Select(c => email.Insert(i, c.ToString()))));
    }

    private static string Put(char[] chars, int index, char c)
    {
        chars[index] = c;
        return new string(chars);
    }

    // Joins pieces (1 or 2 units each) up to exactly the target length, padding with ASCII so a pair is never cut.
    private static string Fit(string[] parts, int target)
    {
        var text = new System.Text.StringBuilder(target);
        foreach (string part in parts)
        {
            if (text.Length + part.Length > target) break;
            text.Append(part);
        }
        return text.Append('x', target - text.Length).ToString();
    }
}
