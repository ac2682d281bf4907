using QkChat.Core.Accounts;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>Edge cases of the field rules, one row each (the properties cover the bulk: InputRulesPropertyTests).</summary>
[Collection(MeasuredAlone.Name)]
public sealed class InputRulesTests
{
    [Theory]
    [InlineData("abc")]
    [InlineData("___")]
    [InlineData("a23")]
    [InlineData("123456789_")]
    [InlineData("Zhang_San_2024")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345")] // 32
    public void Accepts_usernames(string value) => Assert.Null(InputRules.Username(value));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ab")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")] // 33
    [InlineData("123")]
    [InlineData("123456789")] // would read as a user_id
    [InlineData("ab c")]
    [InlineData("ab-c")]
    [InlineData("ab.c")]
    [InlineData("a@bc")]
    [InlineData("张三丰")]
    [InlineData("café")]
    [InlineData("ab\0c")]
    [InlineData("１２３abc")] // fullwidth digits are not [0-9]
    [InlineData("abc\u212A")] // Kelvin sign, lower-cases to k
    public void Rejects_usernames(string? value) =>
        Assert.StartsWith("username: ", InputRules.Username(value));

    [Theory]
    [InlineData("a@b.co")]
    [InlineData("Zhang.San@Example.COM")]
    [InlineData("user+tag@mail.example.org")]
    [InlineData("o'brien@example.ie")]
    [InlineData("!#$%&'*+-/=?^_`{|}~@example.com")]
    [InlineData("12345678@qq.com")]
    [InlineData("user@xn--fiqs8s.cn")] // 中国 in its ACE form
    [InlineData("user@sub-domain.example-host.io")]
    [InlineData("user@123.example")]
    public void Accepts_emails(string value) => Assert.Null(InputRules.Email(value));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("plain")]
    [InlineData("@example.com")]
    [InlineData("user@")]
    [InlineData("user@localhost")] // a dot is required
    [InlineData("user@@example.com")]
    [InlineData("a@b@example.com")]
    [InlineData(".user@example.com")]
    [InlineData("user.@example.com")]
    [InlineData("us..er@example.com")]
    [InlineData("user@example..com")]
    [InlineData("user@.example.com")]
    [InlineData("user@example.com.")]
    [InlineData("user@-example.com")]
    [InlineData("user@example-.com")]
    [InlineData("user@exa_mple.com")]
    [InlineData("user@1.2.3.4")] // an IP address, not a domain
    [InlineData("user@[1.2.3.4]")]
    [InlineData("\"quoted\"@example.com")]
    [InlineData("user name@example.com")]
    [InlineData(" user@example.com")]
    [InlineData("user@example.com ")]
    [InlineData("user@example.com\n")]
    [InlineData("用户@例子.中国")]
    [InlineData("josé@example.com")]
    [InlineData("user@exämple.com")]
    [InlineData("user(comment)@example.com")]
    public void Rejects_emails(string? value) => Assert.StartsWith("email: ", InputRules.Email(value));

    [Fact]
    public void Email_length_limits_are_those_of_smtp()
    {
        string local64 = new('a', 64);
        string label63 = new('b', 63);
        string domain = $"{label63}.{label63}.{label63}.{new string('c', 57)}"; // 249 characters
        Assert.Null(InputRules.Email($"{local64}@example.com"));
        Assert.StartsWith("email: ", InputRules.Email($"{local64}a@example.com"));
        Assert.Null(InputRules.Email($"{label63}@x.{label63}.com"));
        Assert.StartsWith("email: ", InputRules.Email($"x@{label63}b.com"));
        Assert.Null(InputRules.Email("abcd@" + domain)); // 254
        Assert.Equal("email: at most 254 characters", InputRules.Email("abcde@" + domain)); // 255
    }

    [Theory]
    [InlineData("Zhang.San@Example.COM", "zhang.san@example.com")]
    [InlineData("  a@b.co\t", "a@b.co")]
    [InlineData("already@lower.case", "already@lower.case")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Normalizes_emails_for_comparison(string? value, string expected) =>
        Assert.Equal(expected, InputRules.NormalizeEmail(value));

    [Fact]
    public void Normalizing_a_normal_address_returns_the_same_instance()
    {
        string value = "a@b.co";
        Assert.Same(value, InputRules.NormalizeEmail(value));
    }

    [Theory]
    [InlineData("a@b.co", true)]
    [InlineData("not an e-mail@", true)] // login then reports "not a valid e-mail address"
    [InlineData("zhang_san", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Tells_an_email_from_a_username(string? value, bool expected) =>
        Assert.Equal(expected, InputRules.IsEmailLike(value));

    [Theory]
    [InlineData("12345678")]
    [InlineData("pass word with spaces")]
    [InlineData("密码密码密码密码")]
    [InlineData("😀😀😀😀")] // 4 emoji are 8 UTF-16 units, as a JavaScript client counts them
    [InlineData("tab\tand\nnewline")]
    [InlineData("        ")]
    public void Accepts_passwords(string value) => Assert.Null(InputRules.Password(value, "password"));

    [Fact]
    public void Password_length_is_8_to_128_utf16_units()
    {
        Assert.Null(InputRules.Password(new string('x', 128), "password"));
        Assert.Null(InputRules.Password(string.Concat(Enumerable.Repeat("😀", 64)), "password"));
        Assert.StartsWith("password: ", InputRules.Password(new string('x', 129), "password"));
        Assert.StartsWith("password: ", InputRules.Password(string.Concat(Enumerable.Repeat("😀", 65)), "password"));
        Assert.StartsWith("password: ", InputRules.Password("1234567", "password"));
        Assert.StartsWith("password: ", InputRules.Password("😀😀😀", "password")); // 6 units
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("with\0nul!")]
    public void Rejects_passwords(string? value) => Assert.StartsWith("password: ", InputRules.Password(value, "password"));

    // Facts, not InlineData: test-case serialization would turn a lone surrogate into U+FFFD before the check saw it.
    [Fact]
    public void Rejects_broken_surrogates_in_passwords_client_ids_and_devices()
    {
        foreach (string value in (string[])["lone\uD800surrogate", "\uDC00backwards pair", "ends with high\uD83D", "\uDE00\uD83D"])
        {
            Assert.StartsWith("password: ", InputRules.Password(value, "password"));
            Assert.StartsWith("client_id: ", InputRules.ClientId(value));
            Assert.StartsWith("device: ", InputRules.Device(value));
        }
        Assert.Null(InputRules.Password("pair \uD83D\uDE00 ok", "password"));
    }

    [Theory]
    [InlineData("password")]
    [InlineData("new_password")]
    [InlineData("old_password")]
    [InlineData("pin")]
    public void Password_messages_name_the_field_they_were_asked_about(string field)
    {
        Assert.Equal(field + ": required", InputRules.Password(null, field));
        Assert.StartsWith(field + ": 8 to 128", InputRules.Password("short", field));
    }

    [Fact]
    public void Password_check_survives_a_null_field_name() =>
        Assert.StartsWith("password: ", InputRules.Password("short", null!));

    [Theory]
    [InlineData("000000", true)]
    [InlineData("123456", true)]
    [InlineData("12345", false)]
    [InlineData("1234567", false)]
    [InlineData("12345a", false)]
    [InlineData(" 12345", false)]
    [InlineData("１２３４５６", false)] // fullwidth
    [InlineData("١٢٣٤٥٦", false)] // Arabic-Indic
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Verification_codes_are_six_ascii_digits(string? value, bool valid) =>
        Assert.Equal(valid ? null : "verification_code: exactly 6 digits", InputRules.VerificationCode(value));

    [Theory]
    [InlineData("a", true)]
    [InlineData("3f2a9c1e-phone", true)]
    [InlineData("设备 1", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("tab\there", false)]
    [InlineData("bell\u0007", false)]
    [InlineData("c1\u0085", false)]
    public void Client_ids_are_1_to_64_without_control_characters(string? value, bool valid)
    {
        if (valid) Assert.Null(InputRules.ClientId(value));
        else Assert.StartsWith("client_id: ", InputRules.ClientId(value));
    }

    [Fact]
    public void Client_id_and_device_stop_at_64()
    {
        Assert.Null(InputRules.ClientId(new string('c', 64)));
        Assert.StartsWith("client_id: ", InputRules.ClientId(new string('c', 65)));
        Assert.Null(InputRules.Device(new string('d', 64)));
        Assert.StartsWith("device: ", InputRules.Device(new string('d', 65)));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("Pixel 8 (work)", true)]
    [InlineData("iPhone de José 📱", true)]
    [InlineData("line\nbreak", false)]
    [InlineData("\u001b[31mred", false)] // a terminal escape in someone's log viewer
    public void Device_labels_are_optional_and_printable(string? value, bool valid)
    {
        if (valid) Assert.Null(InputRules.Device(value));
        else Assert.StartsWith("device: ", InputRules.Device(value));
    }

    [Theory]
    [InlineData("register", true)]
    [InlineData("reset_password", true)]
    [InlineData("Register", false)]
    [InlineData("reset-password", false)]
    [InlineData("register ", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Code_types_are_the_two_the_protocol_names(string? value, bool valid) =>
        Assert.Equal(valid ? null : "type: register or reset_password", InputRules.CodeType(value));

    [Fact]
    public void Valid_input_is_checked_without_allocating()
    {
        const string name = "zhang_san", email = "Zhang.San@example.com", password = "correct horse", code = "123456";
        Func<bool>[] checks =
        [
            () => InputRules.Username(name) is null,
            () => InputRules.Email(email) is null,
            () => InputRules.Password(password, "password") is null,
            () => InputRules.VerificationCode(code) is null,
            () => InputRules.ClientId("client-1") is null,
            () => InputRules.Device("Pixel") is null,
            () => InputRules.CodeType("register") is null,
            () => InputRules.IsEmailLike(email),
            () => ReferenceEquals(InputRules.NormalizeEmail("a@b.co"), InputRules.NormalizeEmail("a@b.co")),
        ];
        for (int c = 0; c < checks.Length; c++)
        {
            bool ok = true;
            for (int i = 0; i < 10; i++) ok &= checks[c](); // warm up: first calls may allocate while code is prepared
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++) ok &= checks[c]();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(ok, $"check {c} rejected a valid value");
            Assert.True(allocated == 0, $"check {c} allocated {allocated} bytes in 1000 calls");
        }
    }
}
