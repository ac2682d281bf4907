using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using QkChat.Core.Accounts;
using G = QkChat.Tests.Core.InputRulesGenerators;

namespace QkChat.Tests.Core;

/// <summary>Properties of the field rules over generated input (issue 4: a property test over the validators).</summary>
public sealed class InputRulesPropertyTests
{
    // The validators are microseconds each: many cases cost nothing and find the odd corner.
    private const int Many = 2000;

    private static readonly (string Field, Func<string?, string?> Check)[] Checks =
    [
        ("username", InputRules.Username),
        ("email", InputRules.Email),
        ("password", v => InputRules.Password(v, "password")),
        ("new_password", v => InputRules.Password(v, "new_password")),
        ("verification_code", InputRules.VerificationCode),
        ("client_id", InputRules.ClientId),
        ("device", InputRules.Device),
        ("type", InputRules.CodeType),
    ];

    [Property(MaxTest = Many)]
    public Property Any_string_gets_null_or_a_message_naming_the_field_and_the_same_answer_twice() =>
        Prop.ForAll(G.AnyString(), value =>
        {
            foreach (var (field, check) in Checks)
            {
                string? first = check(value);
                if (first is not null && !first.StartsWith(field + ": ", StringComparison.Ordinal)) return false;
                if (!string.Equals(first, check(value), StringComparison.Ordinal)) return false;
            }
            string normalized = InputRules.NormalizeEmail(value);
            _ = InputRules.IsEmailLike(value);
            return normalized == InputRules.NormalizeEmail(normalized);
        });

    [Property(MaxTest = Many)]
    public Property Generated_usernames_are_accepted_and_never_look_like_an_email() =>
        Prop.ForAll(G.ValidUsername(), name => InputRules.Username(name) is null && !InputRules.IsEmailLike(name));

    [Property(MaxTest = Many)]
    public Property Usernames_too_long_too_short_or_all_digits_are_rejected() =>
        Prop.ForAll(G.ValidUsername(), Arb.From(Gen.Choose(0, 9)), (name, digit) =>
            IsUsernameRule(InputRules.Username(name + new string('a', 33 - name.Length + digit)))
            && IsUsernameRule(InputRules.Username(name[..Math.Min(digit % 3, name.Length)]))
            && IsUsernameRule(InputRules.Username(new string((char)('0' + digit), name.Length))));

    [Property(MaxTest = Many)]
    public Property A_bad_character_anywhere_breaks_a_username() =>
        Prop.ForAll(G.ValidUsername(), Arb.From(Gen.Elements('-', ' ', '@', '.', 'é', '\0', '\uD800', '０', '中')),
            Arb.From(Gen.Choose(0, 31)), (name, bad, where) =>
            {
                string broken = name.Insert(where % (name.Length + 1), bad.ToString());
                return broken.Length > 32 || IsUsernameRule(InputRules.Username(broken));
            });

    [Property(MaxTest = Many)]
    public Property Generated_emails_are_accepted_email_like_and_still_valid_once_normalized() =>
        Prop.ForAll(G.ValidEmail(), email =>
        {
            string normalized = InputRules.NormalizeEmail(email);
            return InputRules.Email(email) is null && InputRules.IsEmailLike(email)
                && InputRules.Email(normalized) is null
                && normalized == email.ToLowerInvariant()
                && normalized == InputRules.NormalizeEmail(email.ToUpperInvariant())
                && normalized == InputRules.NormalizeEmail("  " + email + "\t");
        });

    [Property(MaxTest = Many)]
    public Property Broken_emails_are_rejected_naming_the_field() =>
        Prop.ForAll(G.ValidEmail().Generator.SelectMany(G.Mutate).ToArbitrary(), broken =>
            InputRules.Email(broken) is { } message && message.StartsWith("email: ", StringComparison.Ordinal));

    [Property(MaxTest = Many)]
    public Property Generated_passwords_are_accepted_whatever_the_script() =>
        Prop.ForAll(G.ValidPassword(), password =>
            InputRules.Password(password, "password") is null && InputRules.Password(password, "new_password") is null);

    [Property(MaxTest = Many)]
    public Property Passwords_too_short_too_long_with_nul_or_a_lone_surrogate_are_rejected() =>
        Prop.ForAll(G.ValidPassword(), Arb.From(Gen.Choose(0, 128)), (password, where) =>
            IsPasswordRule(InputRules.Password(password[..(where % 8)], "password"))
            && IsPasswordRule(InputRules.Password(password + new string('x', 129 - password.Length), "password"))
            && IsPasswordRule(InputRules.Password(password.Insert(where % (password.Length + 1), "\0"), "password"))
            // A low surrogate first, or a high one last, can never be half of a pair.
            && IsPasswordRule(InputRules.Password("\uDC00" + password[1..], "password"))
            && IsPasswordRule(InputRules.Password(password[..^1] + "\uD800", "password")));

    [Property(MaxTest = Many)]
    public Property Six_digit_codes_pass_and_any_other_length_or_character_fails() =>
        Prop.ForAll(G.ValidCode(), Arb.From(Gen.Elements('a', ' ', '-', '٣', '０', '\0')), Arb.From(Gen.Choose(0, 5)), (code, bad, where) =>
            InputRules.VerificationCode(code) is null
            && InputRules.VerificationCode(code[..5]) is not null
            && InputRules.VerificationCode(code + "0") is not null
            && InputRules.VerificationCode(code.Remove(where, 1).Insert(where, bad.ToString())) is not null);

    private static bool IsUsernameRule(string? message) =>
        message is not null && message.StartsWith("username: ", StringComparison.Ordinal);

    private static bool IsPasswordRule(string? message) =>
        message is not null && message.StartsWith("password: ", StringComparison.Ordinal);
}
