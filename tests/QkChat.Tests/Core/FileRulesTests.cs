using QkChat.Core.Files;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>protocol.md §10's field rules of file_upload_init and get_file_url.</summary>
public sealed class FileRulesTests
{
    [Theory]
    [InlineData("photo.jpg")]
    [InlineData("отчёт 2026.pdf")]
    [InlineData("a")]
    [InlineData("..hidden")]
    public void Ordinary_names_pass(string name) => Assert.Null(FileRules.Name(name));

    [Theory]
    [InlineData(null, "name: required")]
    [InlineData("", "name: 1-255 bytes")]
    [InlineData("dir/file.txt", "name: must not contain '/'")]
    [InlineData("evil\0.txt", "name: must not contain NUL")]
    [InlineData("line\nbreak", "name: must not contain control characters")]
    [InlineData("..", "name: not a file name")]
    public void Bad_names_are_refused_naming_the_field(string? name, string problem) => Assert.Equal(problem, FileRules.Name(name));

    [Fact]
    public void Names_are_measured_in_utf8_bytes_up_to_255()
    {
        Assert.Null(FileRules.Name(new string('a', 255)));
        Assert.Equal("name: 1-255 bytes", FileRules.Name(new string('a', 256)));
        // 127 two-byte letters are 254 bytes; one more is 256.
        Assert.Null(FileRules.Name(new string('ж', 127)));
        Assert.Equal("name: 1-255 bytes", FileRules.Name(new string('ж', 128)));
    }

    [Fact]
    public void Size_is_one_byte_to_the_cap()
    {
        const long Cap = 100L * 1024 * 1024;
        Assert.Null(FileRules.Size(1, Cap));
        Assert.Null(FileRules.Size(Cap, Cap));
        Assert.Equal($"size: 1-{Cap} bytes", FileRules.Size(Cap + 1, Cap));
        Assert.Equal($"size: 1-{Cap} bytes", FileRules.Size(0, Cap));
        Assert.Equal($"size: 1-{Cap} bytes", FileRules.Size(-5, Cap));
        Assert.Equal("size: required", FileRules.Size(null, Cap));
    }

    [Fact]
    public void Sha256_is_64_hex_digits_of_either_case()
    {
        Assert.Null(FileRules.Sha256(new string('a', 64)));
        Assert.Null(FileRules.Sha256("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
        Assert.Equal("sha256: 64 hex characters", FileRules.Sha256(new string('a', 63)));
        Assert.Equal("sha256: 64 hex characters", FileRules.Sha256(new string('a', 65)));
        Assert.Equal("sha256: 64 hex characters", FileRules.Sha256(new string('g', 64)));
        Assert.Equal("sha256: required", FileRules.Sha256(null));
    }

    [Theory]
    [InlineData("image/png", null)]
    [InlineData("application/vnd.openxmlformats-officedocument.wordprocessingml.document", null)]
    [InlineData("image", "mime: type/subtype")]
    [InlineData("text/html; charset=utf-8", "mime: type/subtype")]
    [InlineData("a/b/c", "mime: type/subtype")]
    [InlineData("", "mime: 1-127 characters")]
    public void Mime_is_optional_but_well_formed(string mime, string? problem) => Assert.Equal(problem, FileRules.Mime(mime));

    [Fact]
    public void File_ids_are_positive_below_two_to_the_53() 
    {
        Assert.Null(FileRules.FileId(1));
        Assert.Equal("file_id: a positive integer below 2^53", FileRules.FileId(0));
        Assert.Equal("file_id: a positive integer below 2^53", FileRules.FileId(1L << 53));
        Assert.Equal("file_id: required", FileRules.FileId(null));
    }
}
