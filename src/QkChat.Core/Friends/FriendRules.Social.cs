namespace QkChat.Core.Friends;

/// <summary>Field rules of protocol.md §7 (remarks and friend categories, "friend groups" on the wire); same conventions as the rest of <see cref="FriendRules"/>.</summary>
public static partial class FriendRules
{
    public const int RemarkMaxLength = 64, CategoryNameMaxLength = 32;

    // Category ids (group_id on the wire) are AUTO_INCREMENT INT UNSIGNED; 0 is the default category.
    public const long MaxCategoryId = uint.MaxValue;

    /// <summary>
    /// set_friend_remark's remark: trimmed, 0-64 characters (Unicode code points, as the VARCHAR(64) column counts
    /// them); empty clears it. Control characters (line breaks included: a remark is one line) are refused.
    /// </summary>
    public static string? Remark(string? value, out string remark)
    {
        remark = "";
        if (value is null) return "remark: required (\"\" clears it)";
        return OneLine(value, "remark", 0, RemarkMaxLength, out remark);
    }

    /// <summary>A category name (create: group_name, rename: new_name): trimmed, 1-32 characters, one line.</summary>
    public static string? CategoryName(string? value, string field, out string name)
    {
        name = "";
        if (value is null) return field + ": required";
        return OneLine(value, field, 1, CategoryNameMaxLength, out name);
    }

    /// <param name="allowDefault">Whether 0 (the default category) is acceptable here.</param>
    public static string? CategoryId(long? value, bool allowDefault, out uint id)
    {
        id = 0;
        if (value is not { } v) return "group_id: required";
        if (v < (allowDefault ? 0 : 1) || v > MaxCategoryId) return allowDefault ? "group_id: 0 or a group id" : "group_id: a group id";
        id = (uint)v;
        return null;
    }

    private static string? OneLine(string value, string field, int min, int max, out string text)
    {
        text = value.Trim();
        int chars = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (System.Text.Rune.IsControl(rune)) return field + ": no control characters";
            chars++;
        }
        if (!IsWellFormedUtf16(text)) return field + ": not valid text";
        return chars >= min && chars <= max ? null : min == 0 ? $"{field}: at most {max} characters" : $"{field}: {min}-{max} characters";
    }
}
